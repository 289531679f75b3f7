"""JSON text: orjson's speed, the standard library's leniency."""

from __future__ import annotations

import math

import pytest

from cds_service.web import json_text


def test_plain_json_is_parsed():
    assert json_text.loads(b'{"hook": "order-sign", "n": [1, 2.5, null, true]}') == {
        "hook": "order-sign",
        "n": [1, 2.5, None, True],
    }


def test_utf16_text_that_orjson_refuses_is_still_read():
    assert json_text.loads('{"a": "\u00e9"}'.encode("utf-16")) == {"a": "\u00e9"}


def test_nan_that_orjson_refuses_is_still_read():
    assert math.isnan(json_text.loads(b'{"x": NaN}')["x"])


def test_integers_beyond_64_bits_are_read_as_numbers():
    value = json_text.loads(b'{"big": 123456789012345678901234567890}')["big"]
    assert value == pytest.approx(1.2345678901234568e29)


@pytest.mark.parametrize("raw", [b"", b"{", b'{"a": }', b"\xff\xfe\xfd", b"[1,]"])
def test_what_is_not_json_raises_value_error(raw):
    with pytest.raises(ValueError):
        json_text.loads(raw)


def test_hostile_nesting_raises_rather_than_crashing():
    with pytest.raises((ValueError, RecursionError)):
        json_text.loads(b"[" * 100_000 + b"]" * 100_000)
