"""Lenient readers of FHIR datatypes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fhir_mappers.datatypes import (
    as_list,
    codings,
    first_code,
    integer,
    number,
    parse_date,
    parse_instant,
    parse_partial_date,
    resource_ref,
)


def test_as_list_wraps_single_objects():
    assert as_list({"a": 1}) == [{"a": 1}]
    assert as_list(None) == []
    assert as_list([1, 2]) == [1, 2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3.0),
        (2.5, 2.5),
        ("10", 10.0),
        (True, None),
        (None, None),
        ("x", None),
        (10**400, None),
        (float("nan"), None),
    ],
)
def test_number(value, expected):
    assert number(value) == expected


def test_integer_accepts_whole_floats_only():
    assert integer(3.0) == 3
    assert integer(2.5) is None
    assert integer(False) is None


def test_codings_of_concept_bare_coding_and_junk():
    concept = {"coding": [{"system": "s", "code": "c", "display": "d"}, "junk", {"system": "s"}]}
    assert [(c.system, c.code) for c in codings(concept)] == [("s", "c")]
    assert [c.code for c in codings({"system": "s", "code": "x"})] == ["x"]
    assert codings("nonsense") == []
    assert [c.code for c in codings({"coding": {"code": 12}})] == ["12"]  # object instead of array


def test_first_code_reads_plain_codes_of_older_versions():
    assert first_code("active") == "active"
    assert first_code({"coding": [{"code": "resolved"}]}) == "resolved"
    assert first_code(None) is None


def test_parse_date_keeps_the_written_calendar_date():
    assert parse_date("2026-11-22") == date(2026, 11, 22)
    assert parse_date("2026-11-22T23:30:00-05:00") == date(2026, 11, 22)
    assert parse_date("2026-11") is None
    assert parse_date("2026-02-30") is None
    assert parse_date(20261122) is None


def test_parse_partial_date_spans():
    assert parse_partial_date("1950") == (date(1950, 1, 1), date(1950, 12, 31))
    assert parse_partial_date("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert parse_partial_date("1950-12") == (date(1950, 12, 1), date(1950, 12, 31))
    assert parse_partial_date("1950-13") is None


def test_parse_instant_is_utc():
    assert parse_instant("2026-11-22") == datetime(2026, 11, 22, tzinfo=UTC)
    assert parse_instant("2026-11-22T23:30:00-05:00") == datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
    assert parse_instant("2026-11-22T10:00:00") == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert parse_instant("2026-11-22T10:00:00.123456789Z") == datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)
    assert parse_instant("2026-11-22T10:00:00+99:00") is None
    assert parse_instant("yesterday") is None


def test_resource_ref():
    assert resource_ref({"resourceType": "Patient", "id": "p1"}) == "Patient/p1"
    assert resource_ref({"resourceType": "Patient"}) is None
    assert resource_ref("Patient/p1") is None


def test_cached_by_code_caches_only_string_arguments():
    from fhir_mappers.datatypes import cached_by_code

    calls: list[tuple] = []

    @cached_by_code
    def lookup(system, code):
        calls.append((system, code))
        return (system, code if isinstance(code, str) else repr(code))

    assert lookup("http://loinc.org", "2106-3") == lookup("http://loinc.org", "2106-3")
    assert calls == [("http://loinc.org", "2106-3")]
    assert lookup(None, "x") == (None, "x") and lookup(None, "x") == (None, "x")
    assert len(calls) == 2
    # Anything but strings and None (unhashable or not) is computed afresh, never cached.
    assert lookup("s", {"not": "hashable"}) == ("s", "{'not': 'hashable'}")
    assert lookup("s", 5) == ("s", "5") and lookup("s", 5) == ("s", "5")
    assert len(calls) == 5
    # Overlong strings are not kept.
    long = "9" * 1000
    lookup("s", long)
    lookup("s", long)
    assert len(calls) == 7
