"""The Open Data Cube index part: ``pg_dump`` / ``pg_restore`` of the ODC database.

The password travels in ``PGPASSWORD`` (never on a command line, where ``ps`` shows it) and
never in messages.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

from everest_elearn.errors import BackendUnavailable, InvalidInput, UpstreamError
from everest_elearn.settings import Settings


def _tool(settings: Settings, name: str) -> str:
    folder = settings.backup.pg_bin
    found = str(folder / name) if folder else shutil.which(name)
    if not found or not Path(found).is_file():
        raise BackendUnavailable(
            f"{name} (install postgresql-client or set EVEREST_BACKUP__PG_BIN)"
        )
    return found


def _connection(settings: Settings) -> tuple[list[str], dict[str, str]]:
    if settings.datacube.db_url is None:
        raise InvalidInput("datacube.db_url", "no Open Data Cube database is configured")
    url = urlsplit(settings.datacube.db_url.get_secret_value())
    if not url.scheme.startswith("postgresql") or not url.path.strip("/"):
        raise InvalidInput("datacube.db_url", "expected postgresql+psycopg2://user@host:port/db")
    args = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432)]
    if url.username:
        args += ["-U", unquote(url.username)]
    args += ["-d", url.path.strip("/")]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PGCONNECT_TIMEOUT": "10"}
    if url.password:
        env["PGPASSWORD"] = unquote(url.password)
    return args, env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # pg tools do not print passwords; the last lines say what went wrong.
        detail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise UpstreamError(f"{what} failed: {detail}")


async def dump(settings: Settings, target: Path) -> None:
    """The whole ODC database in pg_dump's custom format (compressed, restorable selectively)."""
    args, env = _connection(settings)
    # Owners and grants are kept: the index belongs to agdc_admin and agdc_user may read it.
    cmd = [_tool(settings, "pg_dump"), "-Fc", "-f", str(target)]
    await asyncio.to_thread(_run, [*cmd, *args], env, "pg_dump of the ODC index")


async def restore(settings: Settings, source: Path) -> None:
    """Replace the ODC database's objects with the dump's, in one transaction."""
    args, env = _connection(settings)
    cmd = [
        _tool(settings, "pg_restore"),
        "--clean",
        "--if-exists",
        "--single-transaction",
        *args,
        str(source),
    ]
    await asyncio.to_thread(_run, cmd, env, "pg_restore of the ODC index")
