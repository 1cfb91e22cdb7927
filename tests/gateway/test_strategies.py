"""Strategies against a real provider on loopback: redirect, pipe, cache, mirror, credentials."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from everest_elearn.errors import Forbidden, UpstreamError
from everest_elearn.gateway import ByteRange, Origin, Redirect, Strategy
from everest_elearn.gateway.service import file_name_of
from everest_elearn.security.identity import ANONYMOUS, Identity
from tests.fixtures.provider import Provider
from tests.gateway.conftest import GatewayMaker, product, read_all, sha, write_file

CACHE_ALL = """
rules:
  - name: everything cached
    strategy: cache
"""


async def test_redirect_answers_the_provider_url(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    write_file(provider.root, "a.tif", 1000)
    gateway = await make_gateway("rules:\n  - name: r\n    strategy: redirect\n")
    record = product(f"{provider.url}/open/a.tif")
    delivered = await gateway.serve(record, "a.tif", ANONYMOUS)
    assert delivered == Redirect(f"{provider.url}/open/a.tif")
    assert provider.gets("/open/a.tif") == 0
    # The programmatic interface never redirects: the gateway fetches itself.
    async with await gateway.open(record, "a.tif", ANONYMOUS) as stream:
        assert len(await read_all(stream.chunks)) == 1000
    assert stream.origin is Origin.PIPE


async def test_pipe_streams_and_keeps_nothing(
    make_gateway: GatewayMaker, provider: Provider, tmp_path: Path
) -> None:
    digest = write_file(provider.root, "b.tif", 300_000)
    gateway = await make_gateway("rules:\n  - name: p\n    strategy: pipe\n")
    record = product(f"{provider.url}/open/b.tif", checksum=f"sha256:{digest}", length=300_000)
    for _ in range(2):
        async with await gateway.open(record, "b.tif", ANONYMOUS) as stream:
            assert sha(await read_all(stream.chunks)) == digest
    assert provider.gets("/open/b.tif") == 2
    assert stream.media_type == "image/tiff"
    assert stream.etag == f'"{digest}"'
    # A range is passed upstream.
    async with await gateway.open(record, "b.tif", ANONYMOUS, ByteRange(100, 199)) as part:
        data = await read_all(part.chunks)
    assert (part.start, part.end, part.size, len(data)) == (100, 199, 300_000, 100)
    assert data == (provider.root / "b.tif").read_bytes()[100:200]
    assert not list((tmp_path / "data" / "gateway" / "store" / "objects").rglob("*.tif"))


async def test_cache_fetches_once_then_hits(make_gateway: GatewayMaker, provider: Provider) -> None:
    digest = write_file(provider.root, "c.tif", 2_500_000)
    gateway = await make_gateway(CACHE_ALL)
    record = product(f"{provider.url}/open/c.tif", checksum=f"sha256:{digest}")
    async with await gateway.open(record, "c.tif", ANONYMOUS) as first:
        assert sha(await read_all(first.chunks)) == digest
    assert first.origin is Origin.MISS
    await _settled(gateway)
    async with await gateway.open(record, "c.tif", ANONYMOUS, ByteRange(-10)) as tail:
        assert await read_all(tail.chunks) == (provider.root / "c.tif").read_bytes()[-10:]
    assert tail.origin is Origin.HIT
    assert (tail.start, tail.end, tail.size) == (2_499_990, 2_499_999, 2_500_000)
    assert tail.etag == f'"{digest}"'
    assert provider.gets("/open/c.tif") == 1
    assert gateway.stats.hits == 1 and gateway.stats.misses == 1
    assert gateway.stats.bytes_stored == 2_500_000


async def test_concurrent_requests_share_one_upstream_fetch(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    provider.rate = 2 * 1024 * 1024
    digest = write_file(provider.root, "d.tif", 3_000_000)
    gateway = await make_gateway(CACHE_ALL)
    record = product(f"{provider.url}/slow/d.tif", checksum=f"sha256:{digest}")

    async def one(delay: float) -> str:
        await asyncio.sleep(delay)
        async with await gateway.open(record, "d.tif", ANONYMOUS) as stream:
            return sha(await read_all(stream.chunks))

    results = await asyncio.gather(*(one(i * 0.05) for i in range(20)))
    assert results == [digest] * 20
    assert provider.gets("/slow/d.tif") == 1
    assert gateway.stats.upstream_fetches == 1
    assert gateway.stats.joined_fetches == 19


async def test_mirror_keeps_without_expiry(make_gateway: GatewayMaker, provider: Provider) -> None:
    digest = write_file(provider.root, "m.tif", 10_000)
    gateway = await make_gateway("rules:\n  - name: m\n    strategy: mirror\n")
    record = product(f"{provider.url}/open/m.tif", checksum=f"sha256:{digest}")
    async with await gateway.open(record, "m.tif", ANONYMOUS) as stream:
        await read_all(stream.chunks)
    await _settled(gateway)
    stored = await gateway.store.stat(
        f"mirror/{record.parent_identifier}/{record.identifier}/m.tif"
    )
    assert stored is not None and "expires" not in stored.meta
    assert stored.meta["sha256"] == digest


@pytest.mark.parametrize("mode", ["basic", "bearer", "cookie"])
async def test_credentials_are_sent_as_the_rule_names(
    make_gateway: GatewayMaker, provider: Provider, mode: str
) -> None:
    digest = write_file(provider.root, "secret.tif", 5000)
    gateway = await make_gateway("rules:\n  - name: p\n    strategy: pipe\n")
    record = product(f"{provider.url}/{mode}/secret.tif", checksum=f"sha256:{digest}")
    async with await gateway.open(record, "secret.tif", ANONYMOUS) as stream:
        assert sha(await read_all(stream.chunks)) == digest


async def test_wrong_credentials_are_a_clean_error_without_the_secret(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    write_file(provider.root, "secret.tif", 5000)
    provider.secrets["bearer"] = "another-token"
    gateway = await make_gateway("rules:\n  - name: p\n    strategy: pipe\n")
    record = product(f"{provider.url}/bearer/secret.tif")
    with pytest.raises(UpstreamError) as caught:
        await gateway.open(record, "secret.tif", ANONYMOUS)
    assert "refused the credentials" in str(caught.value)
    assert "tok-123456" not in str(caught.value)


async def test_provider_redirects_are_followed(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    digest = write_file(provider.root, "r.tif", 5000)
    gateway = await make_gateway(CACHE_ALL)
    record = product(f"{provider.url}/redirect/r.tif", checksum=f"sha256:{digest}")
    async with await gateway.open(record, "r.tif", ANONYMOUS) as stream:
        assert sha(await read_all(stream.chunks)) == digest


@pytest.mark.parametrize(
    "href",
    [
        "http://127.0.0.1:9/elsewhere/x.tif",  # a host no source names
        "{url}/open/../fail/x.tif",  # climbing out of a source prefix
        "{url}/open/%2e%2e/fail/x.tif",  # the same, percent-encoded
        "{url}/openx/x.tif",  # a sibling of a source prefix
        "{url}/open/x.tif?redirect=http://127.0.0.1:9/",  # a query
        "file:///etc/passwd",
    ],
)
async def test_no_fetch_outside_the_named_sources(
    make_gateway: GatewayMaker, provider: Provider, href: str
) -> None:
    gateway = await make_gateway(CACHE_ALL)
    href = href.format(url=provider.url)
    record = product(href)
    name = file_name_of(record.links[0])
    with pytest.raises(Forbidden, match="not a source named"):
        await gateway.open(record, name, ANONYMOUS)
    assert sum(provider.requests.values()) == 0


POLICIES = """
rules:
  - name: partner data
    strategy: redirect
    allow: [mirror, pipe]
policies:
  - name: course participants get the mirror
    groups: ["course-*"]
    strategy: mirror
  - name: staff get it piped
    roles: [course-manager]
    strategy: pipe
  - name: nobody from the blocked group
    groups: [blocked]
    access: deny
  - name: others are redirected
    authenticated: true
"""


async def test_policies_choose_the_strategy_per_caller(
    make_gateway: GatewayMaker, provider: Provider
) -> None:
    digest = write_file(provider.root, "p.tif", 4000)
    gateway = await make_gateway(POLICIES)
    record = product(f"{provider.url}/open/p.tif", checksum=f"sha256:{digest}")
    participant = Identity("ana", groups=frozenset({"course-eo101"}))
    manager = Identity("mo", roles=frozenset({"course-manager"}))  # type: ignore[arg-type]
    other = Identity("olga")
    blocked = Identity("bob", groups=frozenset({"blocked"}))
    assert gateway.plan(record, "p.tif", participant).decision.strategy is Strategy.MIRROR
    assert gateway.plan(record, "p.tif", manager).decision.strategy is Strategy.PIPE
    assert isinstance(await gateway.serve(record, "p.tif", other), Redirect)
    with pytest.raises(Forbidden, match="denies"):
        await gateway.serve(record, "p.tif", blocked)
    with pytest.raises(Forbidden, match="no access policy"):
        await gateway.serve(record, "p.tif", ANONYMOUS)


async def _settled(gateway: object) -> None:
    """Wait for downloads in flight to be promoted into the store."""
    fetcher = gateway.fetcher  # type: ignore[attr-defined]
    for _ in range(500):
        if not fetcher.tasks:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("downloads did not finish")


async def test_a_policy_strategy_its_rule_refuses_is_logged_and_counted(
    make_gateway: GatewayMaker, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    write_file(provider.root, "o.tif", 1000)
    gateway = await make_gateway(
        """
rules:
  - name: others piped
    match: {collection: OTHER}
    strategy: cache
    allow: [pipe]
  - name: redirected
    strategy: redirect
policies:
  - name: staff
    users: [admin]
    strategy: pipe
"""
    )
    record = product(f"{provider.url}/open/o.tif")
    with caplog.at_level(logging.WARNING, logger="everest_elearn.gateway"):
        delivered = await gateway.serve(record, "o.tif", Identity("admin"))
    # The provider's terms (the rule) win, but visibly: a warning and a counter.
    assert delivered == Redirect(f"{provider.url}/open/o.tif")
    assert gateway.stats.policy_overrides == 1
    assert "policy 'staff' wants pipe but rule 'redirected' does not allow it" in caplog.text
