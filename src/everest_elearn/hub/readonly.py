"""Read-only package folders for servers run as local processes (no Docker engine).

A link or file permissions cannot stop a server running as the hub's own user (often root)
from writing into a package. A private mount namespace can: the server starts under
``unshare`` and sees each package bind-mounted read-only at ``~/data/<name>``; nothing changes
for the rest of the machine.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from functools import cache
from pathlib import Path

ROOT_PREFIX = ("unshare", "--mount", "--propagation", "private")
# Without root: a user namespace where the server is root, allowed to mount in its namespace.
USER_PREFIX = ("unshare", "--user", "--map-root-user", "--mount", "--propagation", "private")


@cache
def mount_prefix() -> tuple[str, ...] | None:
    """How this machine gives a process its own mounts, or None when it cannot (looked up once)."""
    candidates: list[tuple[str, ...]] = [ROOT_PREFIX] if os.geteuid() == 0 else []
    candidates.append(USER_PREFIX)
    for prefix in candidates:
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    return None


def read_only_command(
    prefix: tuple[str, ...], mounts: list[tuple[Path, Path]], cmd: list[str]
) -> list[str]:
    """``cmd`` started with each (source, target) folder bind-mounted read-only at target."""
    steps = [
        f"mount --bind {shlex.quote(str(src))} {shlex.quote(str(dst))} && "
        f"mount -o remount,bind,ro {shlex.quote(str(dst))}"
        for src, dst in mounts
    ]
    script = "set -e; " + "; ".join([*steps, 'exec "$@"'])
    return [*prefix, "--", "sh", "-c", script, "sh", *cmd]
