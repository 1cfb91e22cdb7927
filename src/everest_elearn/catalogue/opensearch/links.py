"""Navigation links (CEOS BP-011B): first, previous, self, next, last with the border cases.

Links always page by ``startIndex`` (BP-007) and carry every applied and fixed parameter, so a
client that only follows links never changes the search. When the total is a lower bound there
is no ``last`` (its index is unknown) and ``next`` is offered while pages come back full.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

PAGING_KEYS = ("startIndex", "startPage", "count")


@dataclass(frozen=True)
class Page:
    """Where a page sits in a result."""

    start_index: int  # 1-based
    count: int  # requested page size (after clamping)
    returned: int  # records on this page
    total: int
    total_exact: bool = True


def page_url(base: str, params: Mapping[str, str], start_index: int, count: int) -> str:
    items = [(k, v) for k, v in params.items() if k not in PAGING_KEYS]
    items += [("startIndex", str(start_index)), ("count", str(count))]
    return f"{base}?{urlencode(items, quote_via=quote, safe=',:')}"


def navigation(base: str, params: Mapping[str, str], page: Page) -> dict[str, str]:
    """rel -> href, in the order first, previous, self, next, last (absent ones left out)."""
    start, count, total = page.start_index, page.count, page.total
    links: dict[str, str] = {"first": page_url(base, params, 1, count)}
    if start > 1 and count > 0:
        links["previous"] = page_url(base, params, max(1, start - count), count)
    links["self"] = page_url(base, params, start, count)
    if count > 0:
        more = start - 1 + page.returned < total if page.total_exact else page.returned >= count
        if more:
            links["next"] = page_url(base, params, start + count, count)
        if page.total_exact and total > 0:
            # The last page keeps the current alignment, so following next ends exactly there.
            if total >= start:
                last = start + ((total - start) // count) * count
            else:
                last = ((total - 1) // count) * count + 1
            links["last"] = page_url(base, params, last, count)
    return links
