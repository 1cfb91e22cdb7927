"""The platform's own versioned SQLite stores, where the settings put them, and their versions."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from everest_elearn.settings import Settings
from everest_elearn.storage.migrations import Schema, migrate, use_wal, version_of


@dataclass(frozen=True)
class VersionedStore:
    """A store file and the schema history this release knows for it."""

    path: Path
    schema: Schema

    def version(self) -> int | None:
        """The file's schema version; None when the file does not exist yet."""
        if not self.path.is_file():
            return None
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
            return version_of(db)

    def migrate(self) -> tuple[int, int]:
        """Apply the missing steps now (stores also do at open); (version before, after)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            use_wal(db)
            before = migrate(db, self.schema, str(self.path))
        return before, self.schema.version


def versioned_stores(settings: Settings) -> list[VersionedStore]:
    from everest_elearn.courses.backends.sqlite import VERSIONS as COURSES
    from everest_elearn.harvest.checkpoint import VERSIONS as CHECKPOINTS
    from everest_elearn.packages.state import VERSIONS as PACKAGES

    data = settings.data_dir
    return [
        VersionedStore(settings.packages.state_path or data / "packages.sqlite", PACKAGES),
        VersionedStore(settings.harvest.state_path or data / "harvest.sqlite", CHECKPOINTS),
        VersionedStore(settings.hub.courses_db or data / "courses.sqlite", COURSES),
    ]
