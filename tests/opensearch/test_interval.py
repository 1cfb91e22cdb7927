"""The OGC 13-026 interval notation: every form parsed, checked against values, and written back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from everest_elearn.catalogue.opensearch.interval import (
    format_condition,
    parse_condition,
    parse_datetime,
)
from everest_elearn.catalogue.query import Interval, OneOf
from everest_elearn.catalogue.registry import ParamType
from everest_elearn.errors import InvalidInput

F = ParamType.FLOAT


def matches(text: str, values: list[float]) -> list[float]:
    condition = parse_condition(text, F, "eo:cloudCover")
    return [v for v in values if condition.contains(v)]


VALUES = [5.0, 10.0, 15.0, 20.0, 25.0, 30.0]


def test_equal() -> None:
    assert parse_condition("10", F, "x") == OneOf((10.0,))
    assert matches("10", VALUES) == [10.0]


def test_closed_range_is_not_empty() -> None:
    # The notorious case: [0,20] must keep 0..20, not become an impossible condition.
    assert matches("[0,20]", VALUES) == [5.0, 10.0, 15.0, 20.0]
    assert matches("[10,20]", VALUES) == [10.0, 15.0, 20.0]


def test_open_range() -> None:
    assert matches("]10,20[", VALUES) == [15.0]


def test_half_open_left_closed() -> None:
    assert matches("[10,20[", VALUES) == [10.0, 15.0]


def test_half_open_right_closed() -> None:
    assert matches("]10,20]", VALUES) == [15.0, 20.0]


def test_at_least() -> None:
    assert parse_condition("[10", F, "x") == Interval(low=10.0, low_inclusive=True)
    assert matches("[10", VALUES) == [10.0, 15.0, 20.0, 25.0, 30.0]


def test_at_most() -> None:
    assert matches("10]", VALUES) == [5.0, 10.0]


def test_greater_than() -> None:
    assert matches("]10", VALUES) == [15.0, 20.0, 25.0, 30.0]


def test_less_than() -> None:
    assert matches("10[", VALUES) == [5.0]


def test_one_of() -> None:
    assert matches("{10,20,30}", VALUES) == [10.0, 20.0, 30.0]


@pytest.mark.parametrize(
    "text",
    ["10", "[10,20]", "]10,20[", "[10,20[", "]10,20]", "[10", "10]", "]10", "10[", "{10,20,30}"],
)
def test_written_back_unchanged(text: str) -> None:
    assert format_condition(parse_condition(text, F, "x")) == text


def test_dates_take_every_form() -> None:
    d = ParamType.DATETIME
    june = datetime(2021, 6, 1, tzinfo=UTC)
    july = datetime(2021, 7, 1, tzinfo=UTC)
    assert parse_condition("[2021-06-01,2021-07-01T00:00:00Z[", d, "x") == Interval(
        june, july, True, False
    )
    assert parse_condition("]2021-06-01T00:00:00+00:00", d, "x") == Interval(
        low=june, low_inclusive=False
    )
    assert parse_condition("{2021-06-01,2021-07-01}", d, "x") == OneOf((june, july))
    assert format_condition(parse_condition("2021-06-01T00:00:00Z]", d, "x")) == (
        "2021-06-01T00:00:00Z]"
    )


def test_integers_reject_fractions() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_condition("[1.5,3]", ParamType.INT, "eo:orbitNumber")
    assert caught.value.where == "eo:orbitNumber"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[",
        "]",
        "[,]",
        "[1,2,3]",
        "[20,10]",
        "{}",
        "{1,,2}",
        "{1,2",
        "1,2",
        "abc",
        "[abc",
        "nan",
        "inf",
    ],
)
def test_malformed_values_name_the_parameter(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_condition(text, F, "eo:cloudCover")
    assert caught.value.where == "eo:cloudCover"


def test_dates_with_offsets_become_utc_and_bare_end_dates_cover_the_day() -> None:
    assert parse_datetime("2021-06-01T12:00:00+02:00", "t") == datetime(2021, 6, 1, 10, tzinfo=UTC)
    end = parse_datetime("2021-06-01", "t", end_of_day=True)
    assert end.date().isoformat() == "2021-06-01" and end.hour == 23
    assert parse_datetime("2021-06-01T10:00:00.123456789Z", "t").microsecond == 123456
    with pytest.raises(InvalidInput):
        parse_datetime("2021-13-01", "time:start")
