"""JSON beyond the nesting and number-size limits (apps/core/jsonlimits.py, docs/API.md "Limits"):
refused before parsing, as a 400 naming the problem, never a RecursionError or ValueError 500."""

import contextlib
import json
import logging
import random
import time

import pytest

from apps.core import jsonlimits
from apps.core.jsonlimits import MAX_DEPTH, MAX_DIGITS, JsonLimitError


def nested(depth: int, inner: str = "") -> str:
    return "[" * depth + inner + "]" * depth


# --- the check ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        nested(MAX_DEPTH),
        '{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH,
        "[" + nested(MAX_DEPTH - 1) + "," + nested(MAX_DEPTH - 1) + "]",
        '["' + "[" * 100 + '"]',  # brackets inside a string do not nest
        '["\\"[[[[", "]]]]\\\\"]',  # nor after an escaped quote, or before an escaped backslash
        "[" + "9" * MAX_DIGITS + ", -" + "9" * MAX_DIGITS + ", 1." + "0" * MAX_DIGITS + "e-" + "1" * MAX_DIGITS + "]",
        '["' + "1" * 5000 + '"]',  # digits inside a string are text
    ],
    ids=["arrays", "objects", "siblings", "bracket-strings", "escapes", "longest-numbers", "digit-string"],
)
def test_within_the_limits_passes(text):
    jsonlimits.check(text)


@pytest.mark.parametrize(
    "text",
    [
        nested(MAX_DEPTH + 1),
        nested(1000),
        "[" * 100_000,  # unterminated: json still recurses into it
        '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1),
        '["\\\\",' + nested(MAX_DEPTH) + "]",  # the string ends after its escaped backslash
        '["\\"]",' + nested(MAX_DEPTH) + "]",  # an escaped quote does not end the string
    ],
    ids=["arrays", "1000-levels", "unterminated", "objects", "after-escaped-backslash", "after-escaped-quote"],
)
def test_deeper_nesting_is_refused(text):
    with pytest.raises(JsonLimitError, match=f"nested deeper than {MAX_DEPTH} levels"):
        jsonlimits.check(text)


@pytest.mark.parametrize(
    "number",
    ["1" * (MAX_DIGITS + 1), "-" + "1" * 5000, "1." + "0" * (MAX_DIGITS + 1), "1e" + "9" * (MAX_DIGITS + 1)],
    ids=["integer", "negative", "fraction", "exponent"],
)
def test_longer_numbers_are_refused(number):
    with pytest.raises(JsonLimitError, match=f"more than {MAX_DIGITS} digits"):
        jsonlimits.check(f'{{"a": [1, {number}]}}')


def _random_value(rng: random.Random, depth: int):
    if depth == 0 or rng.random() < 0.3:
        alphabet = '[]{}"\\ab1'
        return rng.choice(["".join(rng.choice(alphabet) for _ in range(rng.randrange(6))), rng.randrange(10**6), None])
    if rng.random() < 0.5:
        return [_random_value(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {str(i): _random_value(rng, depth - 1) for i in range(rng.randrange(4))}


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


def test_the_depth_is_exactly_the_parsers_on_random_documents():
    """Strings full of brackets, quotes and backslashes: the check counts what json nests."""
    rng = random.Random(20)
    for _ in range(500):
        value = _random_value(rng, 12)
        text, depth = json.dumps(value, ensure_ascii=rng.random() < 0.5), _depth(value)
        jsonlimits.check(text, max_depth=depth)
        if depth:
            with pytest.raises(JsonLimitError):
                jsonlimits.check(text, max_depth=depth - 1)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 1_000_000,
        "[" + "[]," * 333_000 + "[]]",
        '"' + '\\"' * 500_000,  # one unterminated string: no regex backtracking
        '"' * 1_000_000,
        "[" + ",".join(['"a"'] * 250_000) + "]",
    ],
    ids=["open-brackets", "siblings", "escaped-quotes", "quotes", "strings"],
)
def test_a_megabyte_is_checked_in_linear_time(text):
    started = time.perf_counter()
    with contextlib.suppress(JsonLimitError):
        jsonlimits.check(text)
    assert time.perf_counter() - started < 1.0  # ~2–25 ms; a quadratic scan takes minutes


# --- the API's parser ------------------------------------------------------------------------
def _refused(response, fragment: str) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["success"] is False and body["data"] == {}
    assert fragment in body["error"], body["error"]


BODIES = [
    pytest.param(nested(1000), f"nested deeper than {MAX_DEPTH} levels", id="1000-levels"),
    pytest.param('{"email": ' + "1" * 5000 + "}", f"more than {MAX_DIGITS} digits", id="5000-digits"),
    pytest.param('{"email": ' + "1" * 25 + "}", f"more than {MAX_DIGITS} digits", id="25-digits"),
    pytest.param('{"email": 1e999}', "out of range", id="1e999"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/auth/code", "/api/v1/auth/token"])
@pytest.mark.parametrize(("text", "fragment"), BODIES)
def test_without_a_credential_the_limits_are_400s_not_500s(api_client, path, text, fragment, caplog):
    with caplog.at_level(logging.ERROR):
        _refused(api_client.post(path, text, content_type="application/json"), fragment)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "fragment"), BODIES)
def test_with_a_credential_too(owner_client, text, fragment, caplog):
    with caplog.at_level(logging.ERROR):
        _refused(owner_client.post("/api/v1/properties", text, content_type="application/json"), fragment)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
