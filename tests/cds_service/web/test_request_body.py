"""The nesting-depth check on the JSON text agrees with the walk of the parsed value."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.web.request_body import depth_exceeds, text_depth_exceeds

SIGN = "/cds-services/lenalidomide-order-sign"

# Strings full of what could fool a scan of the text: quotes, backslashes, brackets, escapes.
_tricky_text = st.text(alphabet=st.sampled_from(list('"\\[]{}ab\n\t\u00e9\u2028\U0001f600 ,:')), max_size=12)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False) | _tricky_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_tricky_text, children, max_size=4),
    max_leaves=40,
)


def _depth(value: Any) -> int:
    """Nesting depth by definition: a scalar 0, a container one more than its deepest child."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _encodings(value: Any) -> list[bytes]:
    return [
        orjson.dumps(value),
        json.dumps(value).encode(),  # \uXXXX escapes
        json.dumps(value, ensure_ascii=False, indent=2).encode(),
        b"\xef\xbb\xbf" + json.dumps(value, ensure_ascii=False).encode(),  # UTF-8 with a BOM
    ]


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_text_check_agrees_with_the_tree_walk(inner):
    value = {"v": inner}  # a request body is an object
    depth = _depth(value)
    for raw in _encodings(value):
        for limit in {0, max(0, depth - 1), depth, depth + 1}:
            assert text_depth_exceeds(raw, limit) == (depth > limit), (raw, limit)
            assert depth_exceeds(value, limit) == (depth > limit)


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (rb'{"a": "[[[[["}', 1),
        (rb'{"a": "]]]]}}"}', 1),
        (rb'{"a": "\\", "b": [[]]}', 3),  # an escaped backslash just before a closing quote
        (rb'{"a": "x\n\"[", "b": ["\\\"{"]}', 2),  # \n then an escaped quote; \\ then \"
        (rb'{"a": "\\\\\\\"]]"}', 1),  # a run of backslashes, then an escaped quote, in one string
        (rb'{"a": "\u005b\u005b"}', 1),  # brackets written as escapes
        (b'{"a": "\xc3\xa9[" , "b" : { "c" : [ 1 , [ ] ] } }', 4),
    ],
)
def test_text_check_reads_strings_and_escapes(raw, depth):
    assert _depth(json.loads(raw)) == depth  # the case says what it means
    assert not text_depth_exceeds(raw, depth)
    assert text_depth_exceeds(raw, depth - 1)


def test_utf16_body_is_checked_by_walking_the_parsed_value(make_app):
    """UTF-16 text holds bracket and quote bytes inside other characters: the text check is
    not used for it, and its depth is still enforced."""
    client = make_app(CDS_MAX_JSON_DEPTH=5).test_client()
    body = {"hook": "order-sign", "hookInstance": "x", "context": {}, "extension": {"a": [[[["\u225b"]]]]}}
    response = client.post(
        SIGN, data=json.dumps(body, ensure_ascii=False).encode("utf-16"), content_type="application/json"
    )
    assert response.status_code == 400
    assert "deeper than 5" in response.get_json()["issue"][0]["diagnostics"]
