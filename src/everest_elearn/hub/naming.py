"""Container names of a hub's users: distinct per hub, so hubs sharing a Docker engine keep apart."""

from __future__ import annotations

import re

# Part of Docker container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, kept to what reads well in them.
INSTANCE = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")


def container_prefix(instance: str) -> str:
    """DockerSpawner's name prefix for a hub: everest-<instance>, or everest without one."""
    # Named servers get DockerSpawner's "{prefix}-{username}--{servername}": "--" cannot
    # occur in an escaped user name, so names of different users never meet.
    return f"everest-{instance}" if instance else "everest"


def checked_instance(value: str) -> str:
    """The hub instance as given, or ValueError when it cannot be part of a container name."""
    if value and not INSTANCE.fullmatch(value):
        raise ValueError(f"hub_instance {value!r}: lowercase letters, digits and '-' only")
    return value
