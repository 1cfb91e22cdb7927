"""Provider credentials never reach the logs: success and failures, every kind of authentication."""

from __future__ import annotations

import base64
import logging

import pytest

from everest_elearn.errors import EverestError
from everest_elearn.security.identity import ANONYMOUS
from tests.fixtures.provider import SECRETS, Provider
from tests.gateway.conftest import GatewayMaker, product, read_all, sha, write_file
from tests.gateway.test_strategies import _settled

# Every form a secret could be written in: as configured, its parts, and as sent.
FORMS = {
    "basic": [
        SECRETS["basic"],
        SECRETS["basic"].split(":", 1)[1],
        base64.b64encode(SECRETS["basic"].encode()).decode(),
    ],
    "bearer": [SECRETS["bearer"]],
    "cookie": [SECRETS["cookie"], SECRETS["cookie"].split("=", 1)[1]],
}


@pytest.mark.parametrize("strategy", ["pipe", "cache"])
@pytest.mark.parametrize("mode", ["basic", "bearer", "cookie"])
async def test_no_provider_secret_is_logged(
    make_gateway: GatewayMaker,
    provider: Provider,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    strategy: str,
) -> None:
    for name in ("everest_elearn", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, name)
    digest = write_file(provider.root, "s.tif", 300_000)
    gateway = await make_gateway(f"rules:\n  - name: r\n    strategy: {strategy}\n")
    errors: list[str] = []

    async def get(identifier: str) -> str | None:
        record = product(
            f"{provider.url}/{mode}/s.tif", identifier=identifier, checksum=f"sha256:{digest}"
        )
        try:
            async with await gateway.open(record, "s.tif", ANONYMOUS) as stream:
                got = sha(await read_all(stream.chunks))
        except EverestError as exc:
            errors.append(str(exc))
            got = None
        await _settled(gateway)
        return got

    assert await get("ok") == digest  # success
    provider.cut_next = 1
    assert await get("cut") is None  # the provider breaks off
    provider.secrets[mode] = "changed-upstream"
    assert await get("refused") is None  # the provider refuses the credential
    assert len(errors) == 2
    assert f"/{mode}/s.tif" in caplog.text  # the requests were logged (httpx at INFO)
    logged = caplog.text + "\n".join(errors)
    for form in FORMS[mode]:
        assert form not in logged
