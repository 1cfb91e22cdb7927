"""Who downloads a file: a lock file per object key in the spool, shared by the host's workers.

The spool holds, per key ``k`` (named by ``h = sha256(k)[:32]``):

- ``h.lock``: locked (``flock``, exclusive) by the one process downloading ``k``; the kernel drops
  the lock when that process dies, so a crashed download never blocks the key;
- ``h.<uuid>.part``: the bytes received so far (promoted into the object store when verified);
- ``h.json``: the download's state, replaced atomically: ``opening`` (asking the provider),
  ``streaming`` (size and media type known), ``verified`` (complete, checksum matched),
  ``failed``; with the owner's pid so followers notice a dead owner.

A second worker that wants ``k`` finds the lock taken and follows the growing part file instead
of fetching again. Across hosts the spool is not shared: there the object store is the meeting
point (see docs/gateway.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = socket.gethostname()


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass
class Lease:
    """The right to download one key, held until ``release``."""

    key: str
    spool: Path
    name: str
    fd: int
    part: Path

    @property
    def state_path(self) -> Path:
        return self.spool / f"{self.name}.json"

    def write_state(self, state: str, **values: Any) -> None:
        body = {
            "key": self.key,
            "part": self.part.name,
            "pid": os.getpid(),
            "host": HOST,
            "state": state,
            **values,
        }
        tmp = self.spool / f"{self.name}.{uuid.uuid4().hex}.tmp"
        tmp.write_text(json.dumps(body))
        os.replace(tmp, self.state_path)

    def release(self) -> None:
        """Forget the state and give the key back (the part file is gone or promoted by now)."""
        if self.fd < 0:
            return
        with contextlib.suppress(OSError):
            self.part.unlink()
        with contextlib.suppress(OSError):
            self.state_path.unlink()
        # Unlinked while still locked: a racer holding the old inode re-checks and retries.
        with contextlib.suppress(OSError):
            (self.spool / f"{self.name}.lock").unlink()
        os.close(self.fd)
        self.fd = -1


class Leases:
    """Lock files in one spool directory (a local file system the host's workers share)."""

    def __init__(self, spool: Path) -> None:
        self.spool = spool

    def _lock(self, name: str) -> int | None:
        """The locked descriptor of ``name.lock``, or None when another process holds it."""
        path = self.spool / f"{name}.lock"
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return fd
            os.close(fd)  # the holder released and unlinked it meanwhile: take the new one

    def claim(self, key: str) -> Lease | None:
        """The lease on ``key``, or None when another process is downloading it."""
        self.spool.mkdir(parents=True, exist_ok=True)
        name = key_hash(key)
        fd = self._lock(name)
        if fd is None:
            return None
        # Leftovers of a dead owner of this key are ours to remove now.
        for old in self.spool.glob(f"{name}.*"):
            if old.suffix != ".lock":
                with contextlib.suppress(OSError):
                    old.unlink()
        lease = Lease(key, self.spool, name, fd, self.spool / f"{name}.{uuid.uuid4().hex}.part")
        lease.write_state("opening")
        return lease

    def state(self, key: str) -> dict[str, Any] | None:
        """The state another process published for ``key``, or None."""
        try:
            found: dict[str, Any] = json.loads((self.spool / f"{key_hash(key)}.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        return found if found.get("key") == key else None

    def held(self, key: str) -> bool:
        """Whether some process holds the lease on ``key`` now."""
        path = self.spool / f"{key_hash(key)}.lock"
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def in_flight(self) -> list[str]:
        """Keys being downloaded by any process of this host."""
        keys = []
        for path in sorted(self.spool.glob("*.json")) if self.spool.is_dir() else []:
            with contextlib.suppress(FileNotFoundError, ValueError):
                key = json.loads(path.read_text()).get("key")
                if isinstance(key, str) and self.held(key):
                    keys.append(key)
        return keys

    def clear(self) -> int:
        """Remove what dead downloads left (files of keys nobody holds); returns how many."""
        self.spool.mkdir(parents=True, exist_ok=True)
        removed = 0
        for name in sorted({p.name.split(".", 1)[0] for p in self.spool.iterdir()}):
            fd = self._lock(name)
            if fd is None:
                continue  # another worker is downloading it right now
            try:
                for leftover in self.spool.glob(f"{name}.*"):
                    if leftover.suffix != ".lock":
                        leftover.unlink(missing_ok=True)
                        removed += 1
                (self.spool / f"{name}.lock").unlink(missing_ok=True)
            finally:
                os.close(fd)
        return removed
