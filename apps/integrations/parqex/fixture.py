"""The seed's example `GET /oauth/v1/endpoints/sync` answer (seed 004), field for field.

Kept as the JSON text of the seed (`seed_sync.json`, the example body copied verbatim) so the
emulator's default answer and the tests compare against exactly what the vendor documents.
"""

import copy
import json
from functools import cache
from pathlib import Path

SEED_PATH = Path(__file__).with_name("seed_sync.json")


@cache
def _seed() -> dict:
    return json.loads(SEED_PATH.read_text(encoding="utf-8"))


def seed_sync() -> dict:
    """A fresh deep copy of the seed's `{devices: [...]}` answer."""
    return copy.deepcopy(_seed())
