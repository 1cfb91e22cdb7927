"""What the pieces of the gateway share: rules, object store, providers, downloads, counters."""

from __future__ import annotations

from dataclasses import dataclass

from everest_elearn.gateway.eviction import CacheKeeper
from everest_elearn.gateway.flight import Fetcher
from everest_elearn.gateway.objectstore import ObjectStore
from everest_elearn.gateway.reloader import RulesHolder
from everest_elearn.gateway.stats import Stats
from everest_elearn.gateway.upstream import Upstream


@dataclass(frozen=True)
class Parts:
    """One gateway's parts, handed to each of its pieces (hits, downloads, mirroring...)."""

    rules: RulesHolder
    store: ObjectStore
    upstream: Upstream
    fetcher: Fetcher  # this process's downloads and the host-wide leases
    stats: Stats  # this process's counters
    keeper: CacheKeeper  # retention, budget and last reads of the cache
