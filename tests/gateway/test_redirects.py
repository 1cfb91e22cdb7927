"""Provider redirects: followed only to locations the rules name, credentials only to their origin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from everest_elearn.errors import UpstreamError
from everest_elearn.security.identity import ANONYMOUS
from tests.fixtures.provider import SECRETS, Provider, serving
from tests.gateway.conftest import GatewayMaker, product, read_all, sha, write_file

PIPE_ALL = "rules:\n  - name: piped\n    strategy: pipe\n"


@pytest.fixture
def other(tmp_path: Path) -> Iterator[Provider]:
    """A second server on loopback that no source names: where a provider must not send us."""
    with serving(tmp_path / "other") as server:
        yield server


@pytest.mark.parametrize("elsewhere", ["other server", "same server, un-named path"])
async def test_a_redirect_to_a_location_no_source_names_is_refused(
    make_gateway: GatewayMaker, provider: Provider, other: Provider, elsewhere: str
) -> None:
    write_file(other.root, "x.tif", 1000)
    write_file(provider.root, "x.tif", 1000)
    target, server = (f"{other.url}/open/", other)
    if elsewhere != "other server":
        target, server = ("/private/", provider)  # a path of this host no source names
    provider.away = target
    gateway = await make_gateway(f"  - name: away\n    url: {provider.url}/away/\n" + PIPE_ALL)
    record = product(f"{provider.url}/away/x.tif")
    with pytest.raises(UpstreamError) as caught:
        await gateway.open(record, "x.tif", ANONYMOUS)
    assert "provider 'away' redirected to 127.0.0.1:" in str(caught.value)
    assert "do not name" in str(caught.value)
    assert provider.gets("/away/x.tif") == 1
    # Nothing reached the place the provider pointed at.
    assert server.gets(("/open/" if server is other else "/private/") + "x.tif") == 0


async def test_redirects_within_named_sources_are_followed(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    digest = write_file(provider.root, "y.tif", 200_000)
    # /away/ -> /open/ lies within "whole"; /redirect/ -> /open/ lands in the source "provider".
    gateway = await make_gateway(f"  - name: whole\n    url: {provider.url}/\n" + PIPE_ALL)
    for prefix in ("away", "redirect"):
        record = product(f"{provider.url}/{prefix}/y.tif")
        async with await gateway.open(record, "y.tif", ANONYMOUS) as stream:
            assert sha(await read_all(stream.chunks)) == digest
    assert provider.gets("/open/y.tif") == 2


async def test_credentials_never_follow_a_redirect_to_another_host(
    make_gateway: GatewayMaker, provider: Provider, other: Provider
) -> None:
    digest = write_file(other.root, "z.tif", 50_000)
    provider.away = f"{other.url}/open/"
    gateway = await make_gateway(
        f"""  - name: signed
    url: {provider.url}/away/
    auth: bearer
    credential: PROVIDER_TOKEN
    redirect_hosts: ["127.0.0.1:{other.port}"]   # the provider's storage
"""
        + PIPE_ALL
    )
    record = product(f"{provider.url}/away/z.tif")
    async with await gateway.open(record, "z.tif", ANONYMOUS) as stream:
        assert sha(await read_all(stream.chunks)) == digest
    assert provider.headers["/away/z.tif"]["Authorization"] == f"Bearer {SECRETS['bearer']}"
    sent = {k.lower(): v for k, v in other.headers["/open/z.tif"].items()}
    assert "authorization" not in sent and "cookie" not in sent
    assert SECRETS["bearer"] not in repr(sent)
