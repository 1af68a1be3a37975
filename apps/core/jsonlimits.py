"""Bounds on JSON text, checked before it is parsed (docs/API.md "Limits", PROTOCOL.md §3.1).

PURE: the standard library only. Used by the API's JSON parser (apps/core/api/parsers.py) and
by the protocol's strict parser (apps/keys/canonical.py `loads`).

Python's `json` recurses once per array or object, so about a thousand nested brackets raise
RecursionError; and it turns an integer literal of more than 4,300 digits into a ValueError
(`sys.int_info.default_max_str_digits`). Neither is a parse error, so both escaped as 500s.
`check` refuses such text first, in linear time and without recursion:

1. the strings are cut out: escaped backslashes and quotes are dropped (`\\\\`, then `\\"`),
   so every remaining `"` opens or closes a string and `text.split('"')[::2]` is the text
   outside them (an unterminated string runs to the end);
2. outside strings, a run of more than `max_digits` digits is refused: that bounds an
   integer, and each part of a fraction or exponent, to `max_digits` digits;
3. only the brackets are kept; with at most `max_depth` opening ones the text cannot nest
   deeper, otherwise one pass counts the depth and stops at the first bracket too deep.

Malformed text (an unterminated string, unbalanced brackets) may pass: the parser that runs
next refuses it, and its nesting is bounded all the same.
"""

# Legitimate bodies nest at most 7 deep (a phone's access map: document → entries → entry →
# schedule → windows → window → days; API request bodies at most 4) and their longest number
# has 16 digits (2^53−1). Both limits leave ample room and stay far below Python's own.
MAX_DEPTH = 32
MAX_DIGITS = 20

_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_OPENING = frozenset(b"[{")


class JsonLimitError(ValueError):
    """JSON text beyond the nesting or number-size limits."""


def _outside_strings(text: str) -> bytes:
    if "\\" in text:
        text = text.replace("\\\\", "").replace('\\"', "")
    # Outside strings valid JSON is ASCII; whatever else is there is neither a digit nor a bracket.
    return "".join(text.split('"')[::2]).encode("ascii", "ignore")


def check(text: str, *, max_depth: int = MAX_DEPTH, max_digits: int = MAX_DIGITS) -> None:
    """Raise JsonLimitError when `text` nests deeper than `max_depth` arrays/objects or holds a
    number with more than `max_digits` digits."""
    outside = _outside_strings(text)
    if b"0" * (max_digits + 1) in outside.translate(_DIGITS_AS_ZERO):
        raise JsonLimitError(f"JSON number with more than {max_digits} digits")
    brackets = outside.translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= max_depth:
        return
    depth = 0
    for char in brackets:
        if char in _OPENING:
            depth += 1
            if depth > max_depth:
                raise JsonLimitError(f"JSON nested deeper than {max_depth} levels of arrays and objects")
        else:
            depth -= 1
