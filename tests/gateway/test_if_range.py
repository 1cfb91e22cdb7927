"""``If-Range`` on /data (real uvicorn): a stale validator turns a range into the whole file."""

from __future__ import annotations

import pytest

from tests.gateway import test_api
from tests.gateway.conftest import product, sha, write_file
from tests.gateway.test_api import Agency

# The uvicorn-served agency of the /data tests (rules: S2MSI2A mirrored, anything else piped).
agency = test_api.agency


@pytest.mark.parametrize("product_type", ["S2MSI2A", "OTHER"], ids=["mirror", "pipe"])
def test_if_range_sends_the_part_only_while_the_validator_holds(
    agency: Agency, product_type: str
) -> None:
    digest = write_file(agency.provider.root, "ir.tif", 400_000)
    body = (agency.provider.root / "ir.tif").read_bytes()
    record = agency.lookup.add(
        product(
            f"{agency.provider.url}/open/ir.tif",
            checksum=f"sha256:{digest}",
            length=400_000,
            productType=product_type,
        )
    )
    path = f"/data/S2_MSI_L2A/{record.identifier}/ir.tif"
    with agency.client() as client:
        etag = client.head(path).headers["etag"]
        assert etag == f'"{digest}"'

        matching = client.get(path, headers={"Range": "bytes=100-199", "If-Range": etag})
        assert matching.status_code == 206
        assert matching.headers["content-range"] == "bytes 100-199/400000"
        assert matching.content == body[100:200]

        # The client's copy is another version: it gets the whole current file, not a part.
        for stale in ('"0123456789abcdef"', f"W/{etag}"):
            whole = client.get(path, headers={"Range": "bytes=100-199", "If-Range": stale})
            assert whole.status_code == 200, stale
            assert "content-range" not in whole.headers
            assert whole.headers["content-length"] == "400000"
            assert whole.headers["etag"] == etag
            assert sha(whole.content) == digest

        # Without a Range, If-Range changes nothing.
        plain = client.get(path, headers={"If-Range": '"0123456789abcdef"'})
        assert plain.status_code == 200 and sha(plain.content) == digest
