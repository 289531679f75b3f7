"""JSON text: orjson's rules for every encoding JSON allows, so the two paths agree."""

from __future__ import annotations

import codecs

import pytest

from cds_service.web import json_text

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"]

# Text that is JSON by RFC 8259 and the contract's rules, and text that is not.
ACCEPTED = [
    '{"hook": "order-sign", "n": [1, 2.5, null, true]}',
    '{"a": "\u00e9\U0001f600", "b": "\\ud83d\\ude00", "c": -0.0, "d": 1e308}',
    '{"big": 123456789012345678901234567890}',
]
REFUSED = [
    '{"x": NaN}',
    '{"x": Infinity}',
    '{"x": -Infinity}',
    '{"x": 1e999}',
    '{"x": -1e999}',
    '{"userId": "Practitioner/\\ud800"}',
    '{"note": "\\udfff tail"}',
    '{"\\ud800key": 1}',
    '{"a": }',
    "[1,]",
]


def test_plain_json_is_parsed():
    assert json_text.loads(b'{"hook": "order-sign", "n": [1, 2.5, null, true]}') == {
        "hook": "order-sign",
        "n": [1, 2.5, None, True],
    }


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("text", ACCEPTED)
def test_every_encoding_reads_the_same_value(text, encoding):
    assert json_text.loads(text.encode(encoding)) == json_text.loads(text.encode("utf-8"))


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("text", REFUSED)
def test_every_encoding_refuses_the_same_text(text, encoding):
    with pytest.raises(ValueError):
        json_text.loads(text.encode(encoding))
    with pytest.raises(ValueError):
        json_text.loads(text)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"userId": "\xed\xa0\x80"}',  # a lone surrogate as raw (CESU-style) UTF-8 bytes
        codecs.BOM_UTF8 + b'{"a": "\xed\xb0\x80"}',
        codecs.BOM_UTF16_LE + b'{\x00"\x00a\x00"\x00:\x00"\x00\x00\xd8"\x00}\x00',  # a lone high surrogate in UTF-16
    ],
)
def test_lone_surrogate_bytes_are_refused(raw):
    with pytest.raises(ValueError):
        json_text.loads(raw)


def test_integers_beyond_64_bits_are_read_as_numbers():
    value = json_text.loads(b'{"big": 123456789012345678901234567890}')["big"]
    assert value == pytest.approx(1.2345678901234568e29)


@pytest.mark.parametrize("raw", [b"", b"{", b'{"a": }', b"\xff\xfe\xfd", b"[1,]"])
def test_what_is_not_json_raises_value_error(raw):
    with pytest.raises(ValueError):
        json_text.loads(raw)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_hostile_nesting_is_a_value_error_not_a_recursion_error(encoding):
    with pytest.raises(ValueError):
        json_text.loads(("[" * 5000 + "]" * 5000).encode(encoding))
