"""Schema versions of the platform's own SQLite stores: ``PRAGMA user_version`` and ordered steps.

Each store declares a ``Schema``: its name and the list of steps, step ``i`` taking a database
from version ``i`` to ``i + 1`` (step 1 creates the tables). At open, ``migrate`` runs the steps
the file lacks in one ``BEGIN IMMEDIATE`` transaction together with the new ``user_version``, so
a crash leaves the old version intact and two processes never migrate twice. Version 0 is also
what files made before versions existed say; their step 1 is ``CREATE ... IF NOT EXISTS``, so
they become version 1 unchanged. A file newer than the code is refused, never touched: an older
release must not write into a schema it does not know.

A release that changes a schema appends a step (never edits a released one) and adds a test
upgrading the kept fixture of the previous version (``tests/deploy/test_migrations.py``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from everest_elearn.errors import Unsupported

Step = Callable[[sqlite3.Connection], None]


class SchemaTooNew(Unsupported):
    """The file was written by a newer release than this one."""


@dataclass(frozen=True)
class Schema:
    """A store's schema history: ``steps[i]`` upgrades version ``i`` to ``i + 1``."""

    store: str
    steps: tuple[Step, ...]

    @property
    def version(self) -> int:
        return len(self.steps)


def sql(script: str) -> Step:
    """A step made of SQL statements, run one by one (``executescript`` would commit early)."""
    statements = split(script)

    def step(db: sqlite3.Connection) -> None:
        for statement in statements:
            db.execute(statement)

    return step


def split(script: str) -> list[str]:
    """The complete statements of an SQL script, in order."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:80]}")
    return statements


def version_of(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _refuse_newer(found: int, schema: Schema, where: str) -> None:
    if found > schema.version:
        raise SchemaTooNew(
            f"{where}: the {schema.store} has schema version {found}, newer than this release's "
            f"{schema.version}; run the release that wrote it, or restore the backup made "
            "before the upgrade"
        )


def use_wal(db: sqlite3.Connection, patience: float = 30.0) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another process holds the file.

    SQLite answers this pragma "database is locked" at once, without waiting the busy timeout,
    when another process is switching the same fresh file or writing to it; processes starting
    together on one data directory would fail. The mode is kept in the file: once switched, the
    pragma only reads it.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(0.02)


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction (autocommit connection), taken before the first read.

    Schema upkeep looks, then changes: under ``BEGIN IMMEDIATE`` no other process can change
    the file between the look and the change. Inside a transaction already, joins it.
    """
    if db.in_transaction:
        yield
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def migrate(db: sqlite3.Connection, schema: Schema, where: str) -> int:
    """Bring ``db`` (autocommit mode) to ``schema.version``; the version it had before."""
    if db.isolation_level is not None:
        raise TypeError("migrate needs a connection with isolation_level=None")
    found = version_of(db)
    _refuse_newer(found, schema, where)
    if found == schema.version:
        return found
    with immediate(db):
        found = version_of(db)  # another process may have migrated while we waited
        _refuse_newer(found, schema, where)
        for step in schema.steps[found:]:
            step(db)
        # A PRAGMA's argument cannot be a parameter; the version is an int from the schema.
        db.execute(f"PRAGMA user_version = {schema.version:d}")
    return found


def schema(store: str, *steps: Step | str) -> Schema:
    """A Schema from steps given as functions or SQL scripts."""
    return Schema(store, tuple(sql(s) if isinstance(s, str) else s for s in steps))


__all__: Sequence[str] = [
    "Schema",
    "SchemaTooNew",
    "immediate",
    "migrate",
    "schema",
    "split",
    "sql",
    "use_wal",
]
