"""Where a file the gateway serves from its local object store lies on disk, for one-step copies.

The builder still opens every file through the gateway (rules, identity, statistics, cache
recency). When the answer is a hit from the embedded local store, the builder then copies the
stored object itself in one thread (``os.copy_file_range``: the kernel copies, as ``cp`` does)
instead of taking it 1 MB at a time through the event loop, where every chunk costs two thread
hand-offs: on a loaded machine those, not the disk, set the pace.

Like ``estimate.py`` it reads the gateway's ``plan`` and ``store``; a public ``Gateway.stored()``
would replace both.
"""

from __future__ import annotations

from pathlib import Path

from everest_elearn.catalogue.model import Record
from everest_elearn.errors import EverestError
from everest_elearn.gateway.delivery import FileStream, Origin, Strategy
from everest_elearn.security.identity import Identity


async def stored_path(
    gateway: object, product: Record, file_name: str, identity: Identity, stream: FileStream
) -> Path | None:
    """The local file behind ``stream`` when it is a whole-file hit of a local object store.

    The object is the one whose size and SHA-256 (computed by the gateway when it stored the
    bytes, and checked against the catalogue) are those the stream announces; otherwise None.
    """
    from everest_elearn.gateway.backends.local import LocalStore
    from everest_elearn.gateway.service import Gateway

    if stream.origin is not Origin.HIT or stream.partial or not stream.checksum:
        return None
    if not isinstance(gateway, Gateway) or not isinstance(gateway.store, LocalStore):
        return None
    try:
        plan = gateway.plan(product, file_name, identity)
    except EverestError:
        return None
    sha256 = stream.checksum.removeprefix("sha256:")
    for strategy in (Strategy.MIRROR, Strategy.CACHE):
        key = plan.key(strategy)
        found = await gateway.store.stat(key)
        if found is not None and found.size == stream.size and found.meta.get("sha256") == sha256:
            return gateway.store.objects / key
    return None
