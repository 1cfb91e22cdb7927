"""The HTTP edge under a real uvicorn server: /data with HEAD, Range, ETag; stats; live rule reloads."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from typer.testing import CliRunner

from everest_elearn.api import errors as api_errors
from everest_elearn.api import gateway as gateway_api
from everest_elearn.cli import app as cli_app
from everest_elearn.security.identity import ChainResolver, StaticTokenResolver
from everest_elearn.settings import GatewaySettings, SecuritySettings, Settings
from tests.fixtures.provider import SECRETS, Provider, free_port
from tests.gateway.conftest import Lookup, product, sha, sources_yaml, write_file

ADMIN = "admin-token-for-tests"
RULES = """
rules:
  - name: mirrored
    match: {collection: S2_MSI_L2A, product_type: S2MSI2A}
    strategy: mirror
  - name: redirected
    match: {product_type: REDIRECT}
    strategy: redirect
  - name: piped
    strategy: pipe
"""


@dataclass
class Agency:
    url: str
    lookup: Lookup
    rules_file: Path
    provider: Provider

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, follow_redirects=False)


@pytest.fixture
def agency(request: pytest.FixtureRequest, tmp_path: Path, provider: Provider) -> Iterator[Agency]:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "PROVIDER_BASIC").write_text(SECRETS["basic"])
    (secrets / "PROVIDER_TOKEN").write_text(SECRETS["bearer"])
    (secrets / "PROVIDER_COOKIE").write_text(SECRETS["cookie"])
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(sources_yaml(provider.url) + RULES)
    settings = Settings(
        data_dir=tmp_path / "data",
        security=SecuritySettings(admin_token=SecretStr(ADMIN)),
        gateway=GatewaySettings(
            rules_file=rules_file,
            secrets_dir=secrets,
            reload_interval=0.1,
            zero_copy=getattr(request, "param", "") == "httptools+sendfile",
        ),
    )
    app = _gateway_app(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            # httptools (when installed): spans written to the socket; h11: the ASGI body.
            http=getattr(request, "param", "auto").split("+")[0],
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the agency did not start")
        time.sleep(0.05)
    lookup = Lookup()
    app.state.catalogue = lookup  # the catalogue interface the gateway reads products from
    try:
        yield Agency(f"http://127.0.0.1:{port}", lookup, rules_file, provider)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _gateway_app(settings: Settings) -> FastAPI:
    """The agency with only the gateway resource, as ``create_app`` assembles it (the other
    resources are other features' and are tested there)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with gateway_api.lifespan(app, settings):
            yield

    app = FastAPI(lifespan=lifespan)
    app.state.settings = settings
    app.state.identity_resolver = ChainResolver(StaticTokenResolver(ADMIN, None))
    api_errors.install(app)
    app.include_router(gateway_api.router)
    return app


def _wait_settled(agency: Agency, key_part: str) -> None:
    with agency.client(ADMIN) as client:
        for _ in range(200):
            if not any(key_part in k for k in client.get("/gateway/stats").json()["in_flight"]):
                return
            time.sleep(0.05)
    raise AssertionError("download did not settle")


def test_mirrored_file_full_range_head_and_conditional(agency: Agency) -> None:
    digest = write_file(agency.provider.root, "band.tif", 1_000_000)
    record = agency.lookup.add(
        product(
            f"{agency.provider.url}/open/band.tif", checksum=f"sha256:{digest}", length=1_000_000
        )
    )
    path = f"/data/S2_MSI_L2A/{record.identifier}/band.tif"
    with agency.client() as client:
        # A range on the miss: served from the download as it arrives.
        part = client.get(path, headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206
        assert part.headers["content-range"] == "bytes 1000-1999/1000000"
        assert part.content == (agency.provider.root / "band.tif").read_bytes()[1000:2000]
        _wait_settled(agency, "band.tif")
        full = client.get(path)
        assert full.status_code == 200
        assert sha(full.content) == digest
        assert full.headers["content-type"] == "image/tiff"
        assert full.headers["content-length"] == "1000000"
        assert full.headers["etag"] == f'"{digest}"'
        assert full.headers["accept-ranges"] == "bytes"
        assert full.headers["x-gateway-origin"] == "hit"
        assert "last-modified" in full.headers
        head = client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == "1000000"
        tail = client.get(path, headers={"Range": "bytes=-100"})
        assert tail.status_code == 206 and len(tail.content) == 100
        assert client.get(path, headers={"If-None-Match": f'"{digest}"'}).status_code == 304
        assert client.get(path, headers={"Range": "bytes=2000000-"}).status_code == 416
    assert agency.provider.gets("/open/band.tif") == 1


def test_head_on_an_uncached_file_answers_from_the_catalogue(agency: Agency) -> None:
    digest = write_file(agency.provider.root, "head.tif", 300_000)
    known = agency.lookup.add(
        product(
            f"{agency.provider.url}/open/head.tif",
            identifier="P_KNOWN",
            checksum=f"sha256:{digest}",
            length=300_000,
        )
    )
    with agency.client() as client:
        path = f"/data/S2_MSI_L2A/{known.identifier}/head.tif"
        head = client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == "300000"
        assert head.headers["content-type"] == "image/tiff"
        assert head.headers["etag"] == f'"{digest}"'
        assert head.headers["accept-ranges"] == "bytes"
        part = client.head(path, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.headers["content-range"] == "bytes 100-199/300000"
        assert part.headers["content-length"] == "100"
        assert client.head(path, headers={"If-None-Match": f'"{digest}"'}).status_code == 304
        assert agency.provider.gets("/open/head.tif") == 0  # nothing was downloaded
        # The GET that follows agrees with what HEAD said.
        full = client.get(path)
        assert full.headers["etag"] == head.headers["etag"] and sha(full.content) == digest
        assert agency.provider.gets("/open/head.tif") == 1

        # Without a size in the catalogue, HEAD must ask the provider (and so starts the fetch).
        unknown = agency.lookup.add(
            product(f"{agency.provider.url}/open/head.tif", identifier="P_UNKNOWN")
        )
        blind = client.head(f"/data/S2_MSI_L2A/{unknown.identifier}/head.tif")
        assert blind.status_code == 200 and blind.headers["content-length"] == "300000"
        assert agency.provider.gets("/open/head.tif") == 2


@pytest.mark.parametrize("agency", ["httptools", "httptools+sendfile", "h11"], indirect=True)
def test_same_bytes_copied_sent_with_sendfile_and_streamed(agency: Agency) -> None:
    agency.provider.rate = 2 * 1024 * 1024
    digest = write_file(agency.provider.root, "both.tif", 3_000_000)
    body = (agency.provider.root / "both.tif").read_bytes()
    record = agency.lookup.add(
        product(
            f"{agency.provider.url}/slow/both.tif", identifier="BOTH", checksum=f"sha256:{digest}"
        )
    )
    path = f"/data/S2_MSI_L2A/{record.identifier}/both.tif"
    with agency.client() as client:
        # Followers of the download (spool file), then hits (stored object), whole and ranges.
        for origin in ("miss", "hit"):
            whole = client.get(path)
            assert whole.headers["x-gateway-origin"] == origin and sha(whole.content) == digest
            part = client.get(path, headers={"Range": "bytes=2999000-"})
            assert part.status_code == 206 and part.content == body[2_999_000:]
            _wait_settled(agency, "both.tif")
    assert agency.provider.gets("/slow/both.tif") == 1


def test_redirect_pipe_and_errors(agency: Agency) -> None:
    write_file(agency.provider.root, "r.tif", 5000)
    redirected = agency.lookup.add(
        product(f"{agency.provider.url}/open/r.tif", identifier="R1", productType="REDIRECT")
    )
    piped = agency.lookup.add(
        product(f"{agency.provider.url}/bearer/r.tif", identifier="P1", productType="OTHER")
    )
    outside = agency.lookup.add(product("http://127.0.0.1:9/x/r.tif", identifier="X1"))
    with agency.client() as client:
        answer = client.get(f"/data/S2_MSI_L2A/{redirected.identifier}/r.tif")
        assert answer.status_code == 307
        assert answer.headers["location"] == f"{agency.provider.url}/open/r.tif"
        part = client.get(
            f"/data/S2_MSI_L2A/{piped.identifier}/r.tif", headers={"Range": "bytes=0-9"}
        )
        assert part.status_code == 206 and len(part.content) == 10
        assert part.headers["x-gateway-strategy"] == "pipe"
        assert SECRETS["bearer"] not in str(part.headers)
        refused = client.get(f"/data/S2_MSI_L2A/{outside.identifier}/r.tif")
        assert refused.status_code == 403
        assert client.get("/data/S2_MSI_L2A/nope/r.tif").status_code == 404
        assert client.get(f"/data/OTHER/{piped.identifier}/r.tif").status_code == 404
        assert client.get(f"/data/S2_MSI_L2A/{piped.identifier}/other.tif").status_code == 404


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("Łódź.tif", "_odz.tif"),
        ('say "cheese".tif', "say _cheese_.tif"),
        ("a\r\nX-Evil: 1.tif", None),
    ],
)
def test_any_file_name_gives_a_safe_content_disposition(
    agency: Agency, name: str, fallback: str | None
) -> None:
    (agency.provider.root / name).write_bytes(b"pixels")
    record = agency.lookup.add(
        product(f"{agency.provider.url}/open/{quote(name)}", identifier="NAMED")
    )
    with agency.client() as client:
        answer = client.get(f"/data/S2_MSI_L2A/{record.identifier}/{quote(name)}")
    assert answer.status_code == 200 and answer.content == b"pixels"
    assert "x-evil" not in answer.headers
    disposition = answer.headers["content-disposition"]
    assert disposition.endswith(f"; filename*=UTF-8''{quote(name, safe='')}")
    if fallback is not None:
        assert disposition.startswith(f'inline; filename="{fallback}"; ')


def test_cut_off_upstream_gives_the_client_an_error_and_a_retry_works(agency: Agency) -> None:
    digest = write_file(agency.provider.root, "cut.tif", 3_000_000)
    record = agency.lookup.add(
        product(
            f"{agency.provider.url}/open/cut.tif", identifier="CUT", checksum=f"sha256:{digest}"
        )
    )
    agency.provider.cut_next = 1
    path = f"/data/S2_MSI_L2A/{record.identifier}/cut.tif"
    with agency.client() as client:
        with pytest.raises(httpx.HTTPError):
            client.get(path)
        _wait_settled(agency, "cut.tif")
        retry = client.get(path)
        assert retry.status_code == 200 and sha(retry.content) == digest
        stats = agency.client(ADMIN).get("/gateway/stats").json()
    assert stats["upstream_errors"] == 1
    assert stats["upstream_fetches"] == 2


def test_stats_and_status_need_an_operator(agency: Agency) -> None:
    with agency.client() as client:
        assert client.get("/gateway/stats").status_code == 401
    with agency.client(ADMIN) as client:
        stats = client.get("/gateway/stats").json()
        assert {"hits", "misses", "bytes_served", "evictions", "fallbacks"} <= set(stats)
        assert stats["usage"] == {
            "cache": {"objects": 0, "bytes": 0},
            "mirror": {"objects": 0, "bytes": 0},
        }
        status = client.get("/gateway/status").json()
        assert status["rules"]["ok"] is True
        assert status["rules"]["rules"] == ["mirrored", "redirected", "piped"]


def test_rules_reload_without_restart_and_an_invalid_edit_is_kept_out(agency: Agency) -> None:
    write_file(agency.provider.root, "e.tif", 5000)
    record = agency.lookup.add(product(f"{agency.provider.url}/open/e.tif", identifier="E1"))
    path = f"/data/S2_MSI_L2A/{record.identifier}/e.tif"
    base = sources_yaml(agency.provider.url)
    with agency.client(ADMIN) as client:
        assert client.get(path).headers["x-gateway-strategy"] == "mirror"
        agency.rules_file.write_text(
            base + "rules:\n  - name: all redirected\n    strategy: redirect\n"
        )
        _until(lambda: client.get(path).status_code == 307)
        # An invalid edit: the previous rules keep running, the status says why and where.
        lines = base.count("\n")
        agency.rules_file.write_text(base + "rules:\n  - name: broken\n    strategy: teleport\n")
        _until(lambda: client.get("/gateway/status").json()["rules"]["error"] is not None)
        status = client.get("/gateway/status").json()["rules"]
        assert f"line {lines + 3}" in status["error"] and "teleport" in status["error"]
        assert client.get(path).status_code == 307
    runner = CliRunner()
    result = runner.invoke(cli_app, ["gateway", "check-rules", str(agency.rules_file)])
    assert result.exit_code == 1
    assert f"{agency.rules_file}:{lines + 3}:" in result.output
    assert "teleport" in result.output
    stats = runner.invoke(cli_app, ["gateway", "stats", "--url", agency.url, "--token", ADMIN])
    assert stats.exit_code == 0, stats.output
    assert "redirects" in stats.output and "mirror usage" in stats.output


def _until(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


__all__ = ["asyncio"]
