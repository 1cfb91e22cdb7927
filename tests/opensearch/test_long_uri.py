"""``everest-elearn serve`` answers 414 to an over-long URI at every length, also past the 64 KiB
its HTTP parser can hold (where uvicorn alone would answer 400 in plain text)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from lxml import etree

from tests.fixtures.agency import serve_agency


def raw_get(url: str, target: str) -> tuple[int, bytes, bytes]:
    """A GET with a request line no HTTP client library would send; (status, head, body)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
        conn.sendall(request.encode("ascii"))
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.lower(), body


@pytest.fixture(scope="module")
def agency(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("long-uri")
    with serve_agency(data, {"EVEREST_CATALOGUE__LOAD_SAMPLES": "false"}) as url:
        yield url


@pytest.mark.parametrize("length", [9_000, 60_000, 70_000, 1_000_000])
def test_an_over_long_uri_answers_414_at_any_length(agency: str, length: int) -> None:
    status, head, body = raw_get(agency, "/opensearch/products?searchTerms=" + "x" * length)
    assert status == 414
    assert b"content-type: application/xml" in head
    assert etree.fromstring(body).tag.endswith("ExceptionReport")


def test_a_short_uri_and_other_bad_requests_are_unchanged(agency: str) -> None:
    assert raw_get(agency, "/opensearch/products?searchTerms=flood")[0] == 200
    assert raw_get(agency, "/opensearch/products?searchTerms=%zz")[0] in {200, 400}
    assert raw_get(agency, "/bad path")[0] == 400  # not HTTP at all: the server's own 400
