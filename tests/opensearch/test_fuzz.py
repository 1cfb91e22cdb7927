"""No request, however malformed, makes the OpenSearch interface answer 500."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from everest_elearn.catalogue.opensearch.params import url_key
from everest_elearn.catalogue.registry import REGISTRY

KEYS = sorted({url_key(p) for p in REGISTRY} | {"httpAccept", "parentIdentifier", "unknown"})
INTERESTING = st.sampled_from(
    [
        "[",
        "]",
        "{",
        "}",
        "[1,2]",
        "]1,2[",
        "{1,2,3}",
        "1e400",
        "-0",
        "NaN",
        "9" * 40,
        "POLYGON((0 0,1 0,1 1,0 0))",
        "POINT(1e308 1e308)",
        "GEOMETRYCOLLECTION EMPTY",
        "2021-02-29",
        "2021-06-01T25:00:00Z",
        "0,0,0,0",
        "180,90,-180,-90",
        "\x00",
        "\ud7ff",
        "application/geo+json",
        "start,,0",
        '"',
        "%",
        "%FF",
        "a" * 300,
    ]
)
VALUES = st.one_of(INTERESTING, st.text(max_size=60))
PATHS = st.sampled_from(
    [
        "/opensearch/products",
        "/opensearch/collections",
        "/opensearch/products.json",
        "/opensearch/collections.atom",
        "/opensearch/description.xml",
        "/opensearch/collections/S2_L2A/description.xml",
    ]
)


def _readable(response: httpx.Response) -> None:
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        json.loads(response.content)
    else:
        etree.fromstring(response.content)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=PATHS,
    params=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=6),
    accept=st.sampled_from(
        ["", "application/json", "application/atom+xml", "text/html;q=0.1", "*/*;q=x"]
    ),
)
def test_no_request_gets_a_500(
    server: str, path: str, params: list[tuple[str, str]], accept: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = httpx.get(f"{server}{path}", params=params, headers=headers, timeout=30)
    assert response.status_code in {200, 400, 404, 414}, (params, response.text[:300])
    _readable(response)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#"),
        max_size=200,
    )
)
def test_raw_query_strings(server: str, raw: str) -> None:
    response = httpx.get(f"{server}/opensearch/products?{raw}", timeout=30)
    assert response.status_code in {200, 400, 414}, (raw, response.text[:300])
    _readable(response)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=5))
async def test_no_request_gets_a_500_on_either_backend(
    client: httpx.AsyncClient, params: list[tuple[str, str]]
) -> None:
    response = await client.get("/opensearch/products", params=params)
    assert response.status_code in {200, 400, 414}, (params, response.text[:300])
    _readable(response)
