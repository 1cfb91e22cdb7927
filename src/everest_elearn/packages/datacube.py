"""The Open Data Cube index of packages: products, datasets and the containers' read-only role.

One :class:`DatacubeIndex` per database (datacube 1.9, ``postgres`` driver). Every call into
datacube blocks, so each public method runs its work in a thread (``asyncio.to_thread``). The
document logic lives in :mod:`everest_elearn.packages.odc_documents`.

Containers connect as a login role that is a member of datacube's ``agdc_user`` group (SELECT on
the index only); its password comes from settings and never appears in logs or errors.
"""

from __future__ import annotations

import asyncio
import copy
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import SecretStr

from everest_elearn.catalogue.model import Record
from everest_elearn.errors import BackendUnavailable, Conflict, InvalidInput
from everest_elearn.packages import odc_documents
from everest_elearn.packages.odc_properties import METADATA_TYPE, metadata_type_definition
from everest_elearn.settings import DatacubeSettings

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Schemas of the two 1.9 drivers: postgres ("agdc") and postgis ("odc").
_SCHEMAS = ("agdc", "odc")


def _any_change() -> dict[tuple[str, ...], Any]:
    """Any field of a dataset document may change between versions of a package."""
    from datacube.utils import changes

    return {(): changes.allow_any}


def _validated_role(name: str) -> str:
    if not _ROLE.match(name):
        raise InvalidInput("datacube.readonly_role", "use lower-case letters, digits and _")
    return name


class DatacubeIndex:
    """Products, datasets and roles in one ODC database (``postgresql+psycopg2://`` URL)."""

    def __init__(self, db_url: SecretStr | str, app: str = "everest-elearn") -> None:
        self._url = db_url if isinstance(db_url, SecretStr) else SecretStr(db_url)
        self._app = app
        self._index: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: DatacubeSettings) -> DatacubeIndex:
        if settings.db_url is None:
            raise InvalidInput("datacube.db_url", "no Open Data Cube database is configured")
        return cls(settings.db_url)

    # --- the one place that calls datacube ------------------------------------------------------

    def _connect(self, validate: bool = True) -> Any:
        with self._lock:
            if self._index is None:
                from datacube.cfg import ODCConfig
                from datacube.index import index_connect

                # An environment of our own name, so ODC_DEFAULT_* variables cannot redirect it.
                raw = {
                    "everest": {"db_url": self._url.get_secret_value(), "index_driver": "postgres"}
                }
                env = ODCConfig(raw_dict=raw)["everest"]
                try:
                    self._index = index_connect(
                        env, application_name=self._app, validate_connection=validate
                    )
                except (
                    Exception
                ) as exc:  # datacube raises driver-specific errors; never echo the URL
                    raise BackendUnavailable("Open Data Cube database") from _scrubbed(
                        exc, self._url.get_secret_value(), _password(self._url)
                    )
            return self._index

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    # --- schema and products ------------------------------------------------------------------

    def _initialise(self) -> bool:
        return bool(
            self._connect(validate=False).init_db(with_default_types=True, with_permissions=True)
        )

    async def initialise(self) -> bool:
        """Create the ODC schema if missing (needs a superuser); True when it was created."""
        return bool(await self._run(self._initialise))

    def _ensure_metadata_type(self, index: Any) -> None:
        base = index.metadata_types.get_by_name("eo3")
        if base is None:
            raise InvalidInput("datacube", "the index has no eo3 metadata type (run initialise)")
        wanted = index.metadata_types.from_doc(metadata_type_definition(base.definition))
        if index.metadata_types.get_by_name(METADATA_TYPE) is None:
            index.metadata_types.add(wanted)
            return
        ok, safe, _ = index.metadata_types.can_update(wanted)
        if not ok:
            raise Conflict(f"metadata type {METADATA_TYPE} exists with other search fields")
        if list(safe):  # search fields added by a newer everest-elearn
            index.metadata_types.update(wanted)

    def _ensure_product(self, definition: dict[str, Any]) -> str:
        index = self._connect()
        self._ensure_metadata_type(index)
        name = str(definition["name"])
        existing = index.products.get_by_name(name)
        if existing is None:
            index.products.add_document(definition)
        else:
            product = index.products.from_doc(definition)
            ok, safe, unsafe = index.products.can_update(product, allow_unsafe_updates=False)
            if not ok:
                changes = ", ".join(str(c[0]) for c in unsafe)
                raise Conflict(f"product {name} exists with incompatible definition ({changes})")
            if safe:
                index.products.update(product)
        return name

    async def ensure_product(self, collection: Record, name: str | None = None) -> str:
        """Add (or safely update) the product of ``collection``; returns its ODC name."""
        definition = odc_documents.product_definition(collection, name)
        return str(await self._run(self._ensure_product, definition))

    def _products(self) -> list[str]:
        return sorted(p.name for p in self._connect().products.get_all())

    async def products(self) -> list[str]:
        return list(await self._run(self._products))

    def _remove_product(self, name: str) -> bool:
        index = self._connect()
        product = index.products.get_by_name(name)
        if product is None:
            return False
        index.products.delete([product], allow_delete_active=True)
        return True

    async def remove_product(self, name: str) -> bool:
        """Delete a product and its datasets; False when there was none."""
        return bool(await self._run(self._remove_product, name))

    # --- datasets ------------------------------------------------------------------------------

    def _add(
        self,
        documents: Sequence[tuple[dict[str, Any], str]],
        replaced: list[tuple[dict[str, Any], str]] | None = None,
    ) -> list[UUID]:
        from datacube.index.eo3 import prep_eo3
        from datacube.model import Dataset

        index = self._connect()
        added: list[UUID] = []
        for doc, location in documents:
            product = index.products.get_by_name(doc["product"]["name"])
            if product is None:
                raise InvalidInput(
                    f"dataset {doc.get('label')}", f"unknown product {doc['product']['name']}"
                )
            ds_id = UUID(doc["id"])
            # prep_eo3 adds the lat/lon extent and grid_spatial that x/y/time searches use,
            # as `datacube dataset add` does.
            dataset = Dataset(product, prep_eo3(copy.deepcopy(doc)), uri=location)
            existing = index.datasets.get(ds_id) if index.datasets.has(ds_id) else None
            if existing is None:
                index.datasets.add(dataset, with_lineage=False)
            else:
                if existing.is_archived:
                    index.datasets.restore([ds_id])  # a rebuilt package revives archived entries
                # Versions of a package share ids: the index must describe the new files.
                _, safe, unsafe = index.datasets.can_update(dataset, _any_change())
                if safe or unsafe or existing.uri != location:
                    if replaced is not None and existing.uri is not None:
                        replaced.append((copy.deepcopy(existing.metadata_doc), existing.uri))
                    index.datasets.update(dataset, updates_allowed=_any_change())
            added.append(ds_id)
        return added

    async def add_datasets(self, documents: Sequence[tuple[dict[str, Any], str]]) -> list[UUID]:
        """Index eo3 documents (with their location URIs); indexed ones are updated to match."""
        return list(await self._run(self._add, list(documents)))

    def _reinstate(self, documents: Sequence[tuple[dict[str, Any], str]]) -> None:
        from datacube.model import Dataset

        index = self._connect()
        for doc, location in documents:
            product = index.products.get_by_name(doc["product"]["name"])
            if product is not None and index.datasets.has(UUID(str(doc["id"]))):
                dataset = Dataset(product, doc, uri=location)
                index.datasets.update(dataset, updates_allowed=_any_change())

    async def reinstate(self, documents: Sequence[tuple[dict[str, Any], str]]) -> None:
        """Put back documents (as ``replaced`` by ``index_record``) an aborted build changed."""
        await self._run(self._reinstate, list(documents))

    async def index_record(
        self,
        collection: Record,
        record: Record,
        assets: Mapping[str, Path],
        *,
        package: str,
        package_dir: Path,
        mount_root: str,
        product: str | None = None,
        replaced: list[tuple[dict[str, Any], str]] | None = None,
    ) -> UUID:
        """Build the dataset document of ``record`` from its files and index it; when that changes
        an indexed document, the old one and its location are appended to ``replaced``."""

        def work() -> UUID:
            doc = odc_documents.dataset_document(
                collection,
                record,
                assets,
                package=package,
                package_dir=package_dir,
                mount_root=mount_root,
                product=product,
            )
            return self._add([doc], replaced)[0]

        return UUID(str(await self._run(work)))

    def _remove(self, ids: list[UUID]) -> int:
        index = self._connect()
        present = [i for i in ids if index.datasets.has(i)]
        if present:
            index.datasets.archive(present)
            index.datasets.purge(present)
        return len(present)

    async def remove_datasets(self, ids: Iterable[UUID]) -> int:
        """Remove datasets from the index (archive, then purge); returns how many existed."""
        return int(await self._run(self._remove, list(ids)))

    def _ids_of_package(self, package: str, mount_root: str) -> list[UUID]:
        prefix = "file://" + "/".join((mount_root.rstrip("/"), package, ""))
        found = self._connect().datasets.get_datasets_for_location(prefix, mode="prefix")
        return sorted(ds.id for ds in found)

    async def datasets_of_package(self, package: str, mount_root: str) -> list[UUID]:
        """Ids of the datasets whose files sit in ``package`` (by location prefix)."""
        return list(await self._run(self._ids_of_package, package, mount_root))

    # --- the containers' read-only role --------------------------------------------------------

    def _ensure_reader(self, role: str, password: SecretStr) -> None:
        import sqlalchemy

        engine = sqlalchemy.create_engine(
            self._url.get_secret_value(), poolclass=sqlalchemy.NullPool
        )
        try:
            with engine.begin() as conn:
                exists = conn.execute(
                    sqlalchemy.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
                ).first()
                verb = "ALTER" if exists else "CREATE"
                # psycopg2 binds parameters client-side, so the password is quoted safely here.
                conn.execute(
                    sqlalchemy.text(
                        f'{verb} ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :pw'
                    ),
                    {"pw": password.get_secret_value()},
                )
                groups = conn.execute(
                    sqlalchemy.text(
                        "SELECT rolname FROM pg_roles WHERE rolname IN ('agdc_user', 'odc_user')"
                    )
                ).scalars()
                for group in groups:
                    conn.execute(sqlalchemy.text(f'GRANT "{group}" TO "{role}"'))
                schemas = conn.execute(
                    sqlalchemy.text("SELECT nspname FROM pg_namespace WHERE nspname = ANY(:s)"),
                    {"s": list(_SCHEMAS)},
                ).scalars()
                for schema in schemas:
                    # Tables made after init (new products' views) need the grant again.
                    conn.execute(sqlalchemy.text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
                    conn.execute(
                        sqlalchemy.text(
                            f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'
                        )
                    )
        except sqlalchemy.exc.SQLAlchemyError as exc:
            raise BackendUnavailable("Open Data Cube database") from _scrubbed(
                exc, password.get_secret_value(), _password(self._url)
            )
        finally:
            engine.dispose()

    async def ensure_readonly_role(self, role: str, password: SecretStr) -> None:
        """Create or refresh the login role containers use: it reads the index, never writes it."""
        await self._run(self._ensure_reader, _validated_role(role), password)

    def reader_url(self, role: str, password: SecretStr, host: str | None = None) -> SecretStr:
        """The URL a container uses (``ODC_DEFAULT_DB_URL``): same database, the read-only role."""
        import sqlalchemy

        url = sqlalchemy.make_url(self._url.get_secret_value())
        url = url.set(username=_validated_role(role), password=password.get_secret_value())
        if host:
            url = url.set(host=host)
        return SecretStr(url.render_as_string(hide_password=False))

    async def close(self) -> None:
        with self._lock:
            index, self._index = self._index, None
        if index is not None:
            await asyncio.to_thread(index.close)


def _scrubbed(exc: BaseException, *secrets: str) -> Exception:
    # Driver errors may quote the URL or a statement with a password: mask them for the logs.
    text = f"{type(exc).__name__}: {exc}"
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return RuntimeError(text)


def _password(url: SecretStr) -> str:
    import sqlalchemy

    return sqlalchemy.make_url(url.get_secret_value()).password or ""


def readonly_url_from_settings(settings: DatacubeSettings) -> SecretStr:
    """``ODC_DEFAULT_DB_URL`` for notebook containers, from settings (needs the role's password)."""
    if settings.db_url is None or settings.readonly_password is None:
        raise InvalidInput("datacube", "db_url and readonly_password are needed for containers")
    index = DatacubeIndex(settings.db_url)
    return index.reader_url(
        settings.readonly_role, settings.readonly_password, settings.container_db_host
    )


__all__ = ["DatacubeIndex", "readonly_url_from_settings"]
