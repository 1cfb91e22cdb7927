"""Parsers on real provider responses, and on everything a remote source can get wrong."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from everest_elearn.catalogue.ingest import parse_document, parse_json
from everest_elearn.catalogue.model import Kind, Record

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "catalogue"
STAC = FIXTURES / "stac"
OPENSEARCH = FIXTURES / "opensearch"


def _load(path: Path) -> Any:
    return json.loads(path.read_bytes())


def _one(document: Any, **kw: Any) -> Record:
    parsed = parse_json(document, **kw)
    assert not parsed.rejected, [p.describe() for p in parsed.rejected]
    assert len(parsed.records) == 1
    return parsed.records[0][1]


def test_earth_search_item_collection_maps_stac_fields() -> None:
    parsed = parse_document((OPENSEARCH / "eodag-earth_search_search.json").read_bytes())
    assert parsed.format == "stac-itemcollection"
    assert parsed.rejected == []
    ((position, record),) = parsed.records
    assert position == 1
    assert record.identifier == "S2B_27VWK_20240206_0_L1C"
    assert record.parent_identifier == "sentinel-2-l1c"
    assert record.properties["cloudCover"] == pytest.approx(9.936, abs=1e-3)
    assert record.properties["platform"] == "Sentinel-2"
    assert record.properties["platformSerialIdentifier"] == "B"
    assert record.properties["instrument"] == "MSI"
    assert record.properties["productType"] == "S2MSI1C"
    assert record.properties["sensorType"] == "OPTICAL"
    assert record.properties["illuminationElevationAngle"] == pytest.approx(11.604, abs=1e-3)
    enclosures = {link.title for link in record.data_links}
    assert "Red (band 4) - 10m" in enclosures
    assert any(link.rel == "icon" for link in record.links)
    assert any(link.rel == "via" and "earth-search" in link.href for link in record.links)
    assert any(link.rel == "license" for link in record.links)
    # Band definitions stay with the record for ODC product definitions.
    assert record.extra["stac"]["assets"]["red"]["eo:bands"][0]["common_name"] == "red"


def test_planetary_computer_item_has_orbit_and_bands() -> None:
    record = _one(
        _load(STAC / "odc-stac-S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531.json")
    )
    assert record.properties["orbitDirection"] == "DESCENDING"
    assert record.properties["track"] == 43
    assert record.properties["productType"] == "S2MSI2A"
    assert record.start is not None and record.start.year == 2019
    assert record.geometry is not None and record.geometry["type"] == "Polygon"
    assert record.extra["stac"]["assets"]["B04"]["type"].startswith("image/tiff")


def test_stac_collection_keeps_band_definitions() -> None:
    record = _one(_load(STAC / "odc-stac-sentinel-2-l2a.collection.json"))
    assert record.kind is Kind.COLLECTION
    assert record.parent_identifier is None
    assert record.start is not None and record.start.year == 2015
    assert record.end is None
    bands = {b["name"] for b in record.extra["stac"]["summaries"]["eo:bands"]}
    assert {"B01", "B12", "B8A"} <= bands
    assert "SCL" in record.extra["stac"]["item_assets"]
    assert "B04" in record.extra["stac"]["item_assets"]
    assert record.properties["resolution"] == 10.0
    assert "Sentinel" in record.keywords


def test_resto_geojson_maps_flat_properties_and_download() -> None:
    parsed = parse_document((OPENSEARCH / "eodag-sara_search.json").read_bytes())
    assert parsed.format == "geojson-featurecollection"
    assert len(parsed.records) == 2 and parsed.rejected == []
    record = parsed.records[0][1]
    assert record.identifier == "S2A_MSIL1C_20200815T005251_N0209_R002_T55PDR_20200815T023440"
    assert record.properties["orbitNumber"] == 26883
    assert record.properties["track"] == 2
    assert record.properties["orbitDirection"] == "DESCENDING"
    assert record.properties["platformSerialIdentifier"] == "A"
    (download,) = record.data_links
    assert download.length == 781865648
    assert download.checksum == "md5:64ffca4b9cd13d094ed05554e010db5a"
    assert download.type == "application/zip"
    assert any(link.rel == "icon" for link in record.links)
    assert record.geometry is not None and record.geometry["type"] == "MultiPolygon"


def test_atom_entries_need_a_collection_and_get_one_by_option() -> None:
    data = (OPENSEARCH / "eodag-mundi_search.xml").read_bytes()
    parsed = parse_document(data, source="mundi.xml")
    assert parsed.format == "atom"
    # Mundi names each product as its own parent: rejected, with position and identifier.
    assert len(parsed.rejected) == 2 and parsed.records == []
    first = parsed.rejected[0]
    assert first.position == 1 and first.identifier and first.identifier.startswith("S2A_MSIL1C")
    assert "own collection" in first.reason
    assert "mundi.xml #1" in first.describe()

    parsed = parse_document(data, parent="S2_MSI_L1C")
    assert len(parsed.records) == 2
    record = parsed.records[1][1]
    assert record.parent_identifier == "S2_MSI_L1C"
    assert record.properties["cloudCover"] == pytest.approx(6.6797)
    assert record.properties["sensorType"] == "OPTICAL"
    assert record.properties["platform"] == "Sentinel-2"
    assert record.properties["orbitDirection"] == "DESCENDING"
    assert record.geometry is not None and record.geometry["type"] == "Polygon"
    lon, lat = record.geometry["coordinates"][0][0]
    assert 144 < lon < 146 and 13 < lat < 15  # GeoRSS lat/lon order turned into GeoJSON lon/lat
    assert {link.rel for link in record.links} >= {"icon"}


def test_odata_is_out_of_scope_and_says_so() -> None:
    parsed = parse_document((OPENSEARCH / "eodag-cop_dataspace_search.json").read_bytes())
    assert parsed.format == "odata"
    assert parsed.records == []
    assert "OData" in parsed.rejected[0].reason


EO_17_003 = {
    "type": "Feature",
    "id": "https://example.org/S1A_IW_GRDH_1SDV_20150222T170725_20150222T170750_004739_005DD8_CEAB",
    "geometry": {"type": "Polygon", "coordinates": [[[1, 43], [2, 43], [2, 44], [1, 44], [1, 43]]]},
    "properties": {
        "identifier": "S1A_IW_GRDH_1SDV_20150222T170725_20150222T170750_004739_005DD8_CEAB",
        "parentIdentifier": "sentinel-1-grd",
        "title": "S1A GRD",
        "date": "2015-02-22T17:07:25Z/2015-02-22T17:07:50Z",
        "updated": "2015-02-22T20:00:00Z",
        "acquisitionInformation": [
            {
                "platform": {"platformShortName": "Sentinel-1", "platformSerialIdentifier": "A"},
                "instrument": {"instrumentShortName": "SAR-C SAR", "sensorType": "RADAR"},
                "acquisitionParameters": {
                    "operationalMode": "IW",
                    "polarisationMode": "D",
                    "polarisationChannels": "VV, VH",
                    "orbitNumber": 4739,
                    "relativeOrbitNumber": 117,
                    "orbitDirection": "ascending",
                    "antennaLookDirection": "RIGHT",
                },
            }
        ],
        "productInformation": {"productType": "GRD", "processingLevel": "L1", "size": 1700000000},
        "links": {
            "data": [
                {
                    "href": "https://data.example.org/S1A.zip",
                    "type": "application/zip",
                    "length": 1700000000,
                }
            ],
            "previews": [{"href": "https://data.example.org/S1A.png", "type": "image/png"}],
            "alternates": [{"href": "https://data.example.org/S1A.xml", "type": "application/xml"}],
        },
    },
}


def test_ogc_17_003_nested_metadata() -> None:
    record = _one(EO_17_003)
    assert record.identifier.startswith("S1A_IW_GRDH")
    props = record.properties
    assert props["platform"] == "Sentinel-1" and props["platformSerialIdentifier"] == "A"
    assert props["sensorMode"] == "IW" and props["track"] == 117 and props["orbitNumber"] == 4739
    assert props["orbitDirection"] == "ASCENDING"
    assert props["polarisationChannels"] == "VV, VH"
    assert props["sensorType"] == "RADAR" and props["instrument"] == "SAR-C SAR"
    assert props["productType"] == "GRD" and props["modificationDate"] == "2015-02-22T20:00:00Z"
    assert record.end is not None and (record.end - record.start).total_seconds() == 25  # type: ignore[operator]
    assert [link.rel for link in record.links] == ["enclosure", "icon", "alternate"]
    assert record.data_links[0].length == 1700000000


def _variant(change: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    doc = copy.deepcopy(EO_17_003)
    doc["properties"].update(change)
    for key in drop:
        doc.pop(key, None)
        doc["properties"].pop(key, None)
    return doc


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (_variant({}, drop=("geometry",)), "footprint"),
        (_variant({"date": "yesterday"}), "date"),
        (_variant({"date": "3015-01-01T00:00:00Z"}), "outside 1950..2099"),
        (_variant({"identifier": "../../etc/passwd"}), "not a safe identifier"),
        (_variant({"identifier": "x" * 300}), "not a safe identifier"),
        (_variant({"identifier": 42}), "not a string"),
        (_variant({"cloudCover": 150}), "above the maximum 100"),
        (_variant({"orbitNumber": "1e400"}, drop=("acquisitionInformation",)), "orbitNumber"),
        (_variant({"orbitNumber": True}, drop=("acquisitionInformation",)), "boolean"),
        (_variant({"track": 3.5}, drop=("acquisitionInformation",)), "not an integer"),
        (_variant({"title": {"nested": 1}}), "title"),
        (_variant({"parentIdentifier": None}), "names no collection"),
        ({"type": "Feature", "geometry": None, "properties": []}, "properties"),
    ],
)
def test_bad_items_are_rejected_with_a_reason(document: dict[str, Any], reason: str) -> None:
    parsed = parse_json({"type": "FeatureCollection", "features": [EO_17_003, document]})
    assert len(parsed.records) == 1, "the good item must survive the bad one"
    (problem,) = parsed.rejected
    assert problem.position == 2
    assert reason in problem.reason


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0.5]]]}, "closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [1, 1], [0, 0]]]}, "outside"),
        ({"type": "Point", "coordinates": ["a", 1]}, "not a number"),
        ({"type": "Circle", "coordinates": [0, 0]}, "unknown geometry type"),
        ({"type": "Point", "coordinates": [float("nan"), 0]}, "finite"),
        ("POLYGON((0 0, 1 0, 1 1, 0 0))", "GeoJSON"),
    ],
)
def test_bad_geometries(geometry: Any, reason: str) -> None:
    parsed = parse_json(_variant({}) | {"geometry": geometry})
    assert parsed.records == []
    assert reason in parsed.rejected[0].reason


def test_huge_geometry_is_rejected() -> None:
    ring = [[i / 1e6, 0.0] for i in range(100_001)] + [[0.0, 0.0]]
    parsed = parse_json(_variant({}) | {"geometry": {"type": "Polygon", "coordinates": [ring]}})
    assert "vertices" in parsed.rejected[0].reason


def test_unsafe_links_are_dropped_with_a_warning() -> None:
    doc = _variant(
        {
            "links": {
                "data": [
                    {"href": "file:///etc/passwd"},
                    {"href": "javascript:alert(1)"},
                    {"href": "https://ok.example.org/a.zip"},
                ]
            }
        }
    )
    parsed = parse_json(doc)
    ((_, record),) = parsed.records
    assert [link.href for link in record.links] == ["https://ok.example.org/a.zip"]
    assert len(parsed.warnings) == 2 and "dropped" in parsed.warnings[0].reason


def test_stac_multihash_checksum_and_size() -> None:
    item = _load(STAC / "odc-stac-S2A_28QCH_20200714_0_L2A.json")
    digest = "1220" + "ab" * 32
    item["assets"]["B04"]["file:checksum"] = digest
    item["assets"]["B04"]["file:size"] = 1234
    record = _one(item)
    (red,) = [link for link in record.data_links if link.href.endswith("B04.tif")]
    assert red.checksum == "sha256:" + "ab" * 32
    assert red.length == 1234


def test_stac_sar_item() -> None:
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "S1A_IW_GRDH_1SDV_X",
        "collection": "sentinel-1-grd",
        "geometry": EO_17_003["geometry"],
        "bbox": [1, 43, 2, 44],
        "properties": {
            "datetime": None,
            "start_datetime": "2019-09-17T06:00:00Z",
            "end_datetime": "2019-09-17T06:00:25Z",
            "platform": "sentinel-1a",
            "sar:polarizations": ["VV", "VH"],
            "sar:instrument_mode": "IW",
            "sar:product_type": "GRD",
            "sat:orbit_state": "descending",
            "sat:relative_orbit": 110,
            "sat:absolute_orbit": 29054,
        },
        "assets": {"vv": {"href": "./measurement/vv.tiff", "roles": ["data"]}},
        "links": [
            {"rel": "self", "href": "https://stac.example.org/items/S1A_IW_GRDH_1SDV_X.json"}
        ],
    }
    record = _one(item)
    props = record.properties
    assert props["polarisationChannels"] == "VV, VH" and props["polarisationMode"] == "D"
    assert props["orbitDirection"] == "DESCENDING" and props["sensorType"] == "RADAR"
    assert props["productType"] == "GRD" and props["sensorMode"] == "IW"
    assert props["track"] == 110 and props["orbitNumber"] == 29054
    # Relative asset hrefs resolve against the item's self link.
    assert record.data_links[0].href == "https://stac.example.org/items/measurement/vv.tiff"


def test_lists_mix_collections_items_and_non_records() -> None:
    collection = _load(STAC / "odc-stac-sentinel-2-l2a.collection.json")
    item = _load(STAC / "odc-stac-S2A_28QCH_20200714_0_L2A.json")
    document = [collection, item, {"type": "Catalog", "id": "root"}, "oops", 3]
    parsed = parse_json(document)
    assert [p for p, _ in parsed.records] == [1, 2]
    assert [s.position for s in parsed.skipped] == [3]
    assert [r.position for r in parsed.rejected] == [4, 5]
    assert parsed.received == 5


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"hello", "neither JSON nor XML"),
        (b"{not json", "not valid JSON"),
        (b"<feed><entry>", "not well-formed"),
        (b"<x/>", "unsupported XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "unsupported XML",
        ),
        (
            b'<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/"/>',
            "description document",
        ),
        (b"[" * 100000 + b"]" * 100000, "JSON"),
    ],
)
def test_unreadable_documents(data: bytes, reason: str) -> None:
    parsed = parse_document(data)
    assert parsed.records == []
    assert reason in parsed.rejected[0].reason or reason in parsed.format.upper()


def test_atom_collection_entry_and_georss_box() -> None:
    data = b"""<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
      xmlns:georss="http://www.georss.org/georss" xmlns:eo="http://a9.com/-/opensearch/extensions/eo/1.0/">
      <entry><id>urn:x</id><title>S1 GRD</title><dc:identifier>sentinel-1-grd</dc:identifier>
        <link rel="search" type="application/opensearchdescription+xml" href="https://x.org/osdd.xml"/>
        <georss:box>40 -10 45 5</georss:box><eo:platform>Sentinel-1</eo:platform></entry>
      <entry><dc:identifier>p1</dc:identifier><dc:date>2019-09-17T06:00:00Z/2019-09-17T06:00:25Z</dc:date>
        <eo:parentIdentifier>sentinel-1-grd</eo:parentIdentifier>
        <georss:where><gml:Polygon xmlns:gml="http://www.opengis.net/gml"><gml:exterior><gml:LinearRing>
          <gml:posList>40 -1 40 0 41 0 40 -1</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></georss:where>
        <link rel="enclosure" type="application/zip" length="12" href="https://x.org/p1.zip"/></entry>
    </feed>"""
    parsed = parse_document(data)
    assert parsed.rejected == []
    collection, product = (r for _, r in parsed.records)
    assert collection.kind is Kind.COLLECTION and collection.bbox == (-10.0, 40.0, 5.0, 45.0)
    assert product.parent_identifier == "sentinel-1-grd"
    assert product.bbox == (-1.0, 40.0, 0.0, 41.0)
    assert product.data_links[0].length == 12
