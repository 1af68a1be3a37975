"""The API's JSON parser: DRF's, with nesting depth and number size bounded (docs/API.md "Limits").

DRF's JSONParser hands the body to `json.load`, which recurses per nesting level (about a
thousand brackets: RecursionError, a 500 before any credential is checked) and refuses an
integer of more than 4,300 digits only with ValueError. Here the body is checked first by
apps/core/jsonlimits.py, and a number that overflows a float (`1e999` → inf, which no JSON
renderer can write back) is refused too: each is a 400 naming the problem.
"""

import json
import math

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

from apps.core import jsonlimits


def finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"JSON number {text} is out of range")
    return value


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            jsonlimits.check(text)
            return json.loads(text, parse_float=finite_float, parse_constant=strict_constant if self.strict else None)
        except jsonlimits.JsonLimitError as exc:
            raise ParseError(str(exc)) from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, finite_float
            raise ParseError(f"JSON parse error - {exc}") from None
