"""Key tests run with a fixed KEK ring (never the developer's var/ one)."""

import base64
import json
from pathlib import Path

import pytest

from apps.keys import kek

VECTORS = Path(__file__).parent / "vectors"

KEK_1 = base64.b64encode(bytes(range(32))).decode()
KEK_2 = base64.b64encode(bytes(range(100, 132))).decode()


def vectors(name: str) -> dict:
    return json.loads((VECTORS / name).read_text())


def ring(keys: dict[int, str], current: int) -> kek.KekRing:
    return kek.kek_ring_parse(keys, current)


@pytest.fixture(autouse=True)
def kek_settings(settings):
    """KEK 1 only; tests that rotate change these settings themselves."""
    settings.KEYHOUSE_KEK_RING = {1: KEK_1}
    settings.KEYHOUSE_KEK_CURRENT = 1
    return settings
