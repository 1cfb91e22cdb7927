"""Description documents from the registry: templates and Parameter elements agree, patterns hold."""

from __future__ import annotations

import re
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from owslib.opensearch import OpenSearch

from everest_elearn.catalogue.opensearch.description import (
    PATTERNS,
    Description,
    FieldSummary,
    render_description,
)
from everest_elearn.catalogue.opensearch.interval import parse_condition
from everest_elearn.catalogue.registry import NS, Level, ParamType

OS = {"os": NS["os"], "param": NS["param"], "atom": NS["atom"]}


def document(level: Level = Level.PRODUCT) -> etree._Element:
    description = Description(
        self_url="http://h/opensearch/collections/S2/description.xml",
        search_url="http://h/opensearch/products",
        level=level,
        short_name="S2",
        long_name="Sentinel-2 L2A",
        description="Products of S2",
        fixed={"parentIdentifier": "S2"},
        summaries={
            "platform": FieldSummary({"sentinel-2a": 3, "sentinel-2b": 5}),
            "cloudCover": FieldSummary(minimum=0.5, maximum=99.0),
            "orbitNumber": FieldSummary(minimum=100, maximum=900),
        },
        example={"eo:platform": "sentinel-2b"},
    )
    return etree.fromstring(render_description(description))


def test_opensearch_elements_are_in_the_default_namespace() -> None:
    root = document()
    assert root.nsmap[None] == NS["os"]
    assert etree.tostring(root).count(b"<Url ") == 3


def test_each_template_and_its_parameters_agree() -> None:
    for url in document().iterfind("os:Url[@rel='results']", OS):
        template = url.get("template")
        assert template is not None
        assert url.get("indexOffset") == "1" and url.get("pageOffset") == "1"
        tokens = set(re.findall(r"=\{([^}?]+)\?\}", template))
        for required in ("count", "startIndex", "startPage", "geo:box", "time:start", "geo:uid"):
            assert required in tokens
        values = {p.get("value") for p in url.iterfind("param:Parameter", OS)}
        assert values == {f"{{{t}}}" for t in tokens}
        # Parameter names are the query keys the template uses.
        for p in url.iterfind("param:Parameter", OS):
            assert f"{p.get('name')}={{{p.get('value', '')[1:-1]}?}}" in template
        assert "parentIdentifier=S2&" in template  # the fixed parameter (BP-005E)


def test_options_ranges_and_geometry_types_are_advertised() -> None:
    url = document().find("os:Url[@type='application/atom+xml']", OS)
    assert url is not None
    platform = url.find("param:Parameter[@name='platform']", OS)
    assert platform is not None
    assert [o.get("value") for o in platform] == ["sentinel-2a", "sentinel-2b"]
    cloud = url.find("param:Parameter[@name='cloudCover']", OS)
    assert cloud is not None and (cloud.get("minInclusive"), cloud.get("maxInclusive")) == (
        "0",
        "100",
    )
    orbit = url.find("param:Parameter[@name='orbitNumber']", OS)
    assert orbit is not None and orbit.get("maxInclusive") == "900"
    geometry = url.find("param:Parameter[@name='geometry']", OS)
    assert geometry is not None
    kinds = {link.get("href", "").rsplit("/", 1)[-1] for link in geometry.iterfind("atom:link", OS)}
    assert kinds >= {"POINT", "LINESTRING", "POLYGON", "MULTIPOLYGON", "GEOMETRYCOLLECTION"}


def test_owslib_reads_the_document() -> None:
    client = OpenSearch("http://h/", xml=etree.tostring(document()))
    assert client.description.tags[0].startswith("CEOS-OS-BP-V1.1/L")
    atom = client.description.urls["application/atom+xml"]
    assert atom["parameters"]["cloudCover"]["value"] == "{eo:cloudCover}"
    assert atom["parameters"]["platform"]["options"] == ["sentinel-2a", "sentinel-2b"]
    assert "application/geo+json" in client.description.urls


_num = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).map(
    lambda v: f"{v:g}"
)
_date = st.datetimes(min_value=datetime(1900, 1, 1)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _forms(value: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(value, value)
    return st.one_of(
        value,
        value.map(lambda v: f"[{v}"),
        value.map(lambda v: f"]{v}"),
        value.map(lambda v: f"{v}]"),
        value.map(lambda v: f"{v}["),
        pair.map(lambda p: "[{},{}]".format(*sorted(p, key=float))),
        st.lists(value, min_size=1, max_size=4).map(lambda vs: "{" + ",".join(vs) + "}"),
    )


@settings(max_examples=300, deadline=None)
@given(_forms(_num))
def test_what_the_number_pattern_admits_the_server_accepts(text: str) -> None:
    assert re.match(PATTERNS[ParamType.FLOAT], text)
    parse_condition(text, ParamType.FLOAT, "eo:cloudCover")


@settings(max_examples=200, deadline=None)
@given(st.one_of(_date, _date.map(lambda v: f"[{v}"), _date.map(lambda v: f"{v}[")))
def test_what_the_date_pattern_admits_the_server_accepts(text: str) -> None:
    assert re.match(PATTERNS[ParamType.DATETIME], text)
    parse_condition(text, ParamType.DATETIME, "eo:creationDate")


def test_contact_and_attribution_come_from_the_settings(tmp_path: object) -> None:
    from everest_elearn.catalogue.opensearch.description import Description, render_description

    doc = Description(
        self_url="http://h/d.xml",
        search_url="http://h/s",
        level=Level.COLLECTION,
        short_name="x",
        long_name="y",
        description="z",
        contact="eo-help@example.org",
        attribution="ESA",
    )
    root = etree.fromstring(render_description(doc))
    assert root.findtext("os:Contact", namespaces=OS) == "eo-help@example.org"
    for element in (
        "LongName",
        "Developer",
        "Attribution",
        "Language",
        "OutputEncoding",
        "InputEncoding",
    ):
        assert root.findtext(f"os:{element}", namespaces=OS)
