"""Gateway statistics: counters of this process (hits, misses, bytes, evictions, fallbacks)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime


@dataclass
class Stats:
    """Counters since the process started; the store's usage is added by the service."""

    requests: int = 0
    hits: int = 0
    misses: int = 0  # requests that found nothing stored (joined or started a fetch)
    upstream_fetches: int = 0  # downloads started to fill the store
    joined_fetches: int = 0  # requests served from a download already in flight
    pipes: int = 0
    redirects: int = 0
    fallbacks: int = 0  # object store unreachable: piped or redirected instead
    bytes_served: int = 0  # bytes handed to clients (all strategies but redirect)
    bytes_fetched: int = 0  # bytes received from providers
    bytes_stored: int = 0  # bytes promoted into the object store
    evictions: int = 0
    bytes_evicted: int = 0
    checksum_failures: int = 0
    upstream_errors: int = 0
    store_errors: int = 0
    since: str = ""

    def __post_init__(self) -> None:
        if not self.since:
            self.since = datetime.now(UTC).isoformat(timespec="seconds")

    def snapshot(self) -> dict[str, int | str]:
        return asdict(self)

    @property
    def hit_ratio(self) -> float:
        looked = self.hits + self.misses
        return self.hits / looked if looked else 0.0
