"""JSON bodies within bounds: the depth is counted as the parser would nest, brackets inside
strings (escaped quotes too) do not count, and the limits sit where they say."""
import pytest

from loyalty.request_guard import JSON_MAX_BYTES, JSON_MAX_DEPTH, JSONRefused, parse_json


def _nested(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("text", [
    _nested(JSON_MAX_DEPTH),
    '{"a": ' * (JSON_MAX_DEPTH - 1) + "[1]" + "}" * (JSON_MAX_DEPTH - 1),
    '["' + "[" * 1000 + '"]',  # brackets in a string are text
    '["\\"' + "[" * 1000 + '\\\\"]',  # behind an escaped quote too
    "[" + "[], " * 5000 + "[]]",  # wide is not deep
    '{"n": 999999999999999999, "x": -1.5e300}',
])
def test_what_is_within_the_bounds_is_read(app, text):
    assert parse_json(text.encode()) is not None


@pytest.mark.parametrize(("text", "message"), [
    (_nested(JSON_MAX_DEPTH + 1), "nested too deeply"),
    ("[" * 30_000, "nested too deeply"),
    ("]" * 10 + "[" * (JSON_MAX_DEPTH + 1), "nested too deeply"),
    ('{"n": 9999999999999999999}', "out of range"),
    ('[1e400]', "out of range"),
    ('[-Infinity]', "out of range"),
    ('["\\u0000"]', "NUL character"),
    ('{"a\\u0000": 1}', "NUL character"),
    ("[1,]", "not valid JSON"),
    ("", "not valid JSON"),
])
def test_what_is_out_of_bounds_is_refused_saying_why(app, text, message):
    with pytest.raises(JSONRefused) as refused:
        parse_json(text.encode())
    assert message in refused.value.message and refused.value.status == 400


def test_the_size_limit(app):
    padded = b'["' + b"x" * (JSON_MAX_BYTES - 4) + b'"]'
    assert len(padded) == JSON_MAX_BYTES and parse_json(padded)
    with pytest.raises(JSONRefused) as refused:
        parse_json(padded + b" ")
    assert refused.value.status == 413
