"""The package registry's rows and tables: build and file states, the schema, runner identity."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from everest_elearn.storage.migrations import schema


class BuildState(StrEnum):
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    DELETING = "deleting"


class FileState(StrEnum):
    PENDING = "pending"
    WRITTEN = "written"  # sent to the volume, not yet flushed
    DURABLE = "durable"  # flushed: a resumed build skips it
    FAILED = "failed"


SCHEMA = """
CREATE TABLE IF NOT EXISTS specs (
  name TEXT NOT NULL, version TEXT NOT NULL, spec TEXT NOT NULL, created TEXT NOT NULL,
  created_by TEXT, PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS builds (
  name TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
  volume TEXT NOT NULL, backend TEXT NOT NULL, owner TEXT, runner TEXT, spec TEXT,
  error TEXT, started TEXT, finished TEXT, updated TEXT NOT NULL,
  total_files INTEGER NOT NULL DEFAULT 0, total_bytes INTEGER NOT NULL DEFAULT 0,
  datasets TEXT NOT NULL DEFAULT '[]', notes TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS files (
  name TEXT NOT NULL, version TEXT NOT NULL, path TEXT NOT NULL, product TEXT NOT NULL,
  file_name TEXT NOT NULL, size INTEGER, done INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,
  sha256 TEXT, entry TEXT, error TEXT, PRIMARY KEY (name, version, path));
"""
# Append steps, never edit a released one (storage/migrations.py).
VERSIONS = schema("packages registry", SCHEMA)


def now() -> str:
    return datetime.now(UTC).isoformat()


def runner_id() -> str:
    """Who runs a build: host and process, so a restart can tell live builds from dead ones."""
    return f"{socket.gethostname()}:{os.getpid()}"


def runner_alive(runner: str | None) -> bool:
    if not runner:
        return False
    host, _, pid = runner.rpartition(":")
    if host != socket.gethostname():
        return True  # another host's build: only that host can tell it is dead
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Build:
    name: str
    version: str
    kind: str
    state: BuildState
    volume: str
    backend: str
    owner: str | None = None
    runner: str | None = None
    spec: dict[str, Any] | None = None
    error: str | None = None
    started: str | None = None
    finished: str | None = None
    updated: str = ""
    total_files: int = 0
    total_bytes: int = 0
    datasets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class FileRow:
    path: str
    product: str
    file_name: str
    size: int | None
    done: int
    state: FileState
    sha256: str | None = None
    entry: dict[str, Any] | None = None
    error: str | None = None
