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
    last = _last_start(page)
    links: dict[str, str] = {"first": page_url(base, params, 1, count)}
    if start > 1 and count > 0:
        previous = max(1, start - count)
        if page.total_exact and start > total:
            # Past the end: previous is the last page with records, not another empty one.
            previous = last or 1
        links["previous"] = page_url(base, params, previous, count)
    links["self"] = page_url(base, params, start, count)
    if count > 0:
        more = start - 1 + page.returned < total if page.total_exact else page.returned >= count
        if more:
            links["next"] = page_url(base, params, start + count, count)
        if last is not None:
            links["last"] = page_url(base, params, last, count)
    return links


def _last_start(page: Page) -> int | None:
    """Start of the last page, when the total is known and not zero."""
    start, count, total = page.start_index, page.count, page.total
    if count <= 0 or not page.total_exact or total <= 0:
        return None
    if total >= start:
        # The last page keeps the current alignment, so following next ends exactly there.
        return start + ((total - start) // count) * count
    return ((total - 1) // count) * count + 1
