"""KEYHOUSE_KEK_RING / KEYHOUSE_KEK_CURRENT from the environment: each case imports the
settings in a fresh interpreter with its own environment."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.keys.conftest import KEK_1, KEK_2

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import json; from django.conf import settings as s; "
    "print(json.dumps({'ring': s.KEYHOUSE_KEK_RING, 'current': s.KEYHOUSE_KEK_CURRENT}))"
)
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 50,
    "KEYHOUSE_SECRET_PEPPERS": "1:" + "p" * 32,
    "KEYHOUSE_FIRMWARE_SIGNING_KEY": base64.b64encode(bytes(range(32))).decode(),
}


def _settings(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KEYHOUSE_", "DEBUG", "SECRET_KEY"))}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", KEYHOUSE_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PRINT], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def _ok(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_off_refuses_to_start_without_a_ring(tmp_path):
    result = _settings(tmp_path, **PRODUCTION)
    assert result.returncode != 0
    assert "KEYHOUSE_KEK_RING" in result.stderr
    assert not (tmp_path / "var" / "kek-dev").exists()


def test_debug_off_with_a_ring_starts_and_the_highest_id_is_current(tmp_path):
    out = _ok(_settings(tmp_path, **PRODUCTION, KEYHOUSE_KEK_RING=f"1:{KEK_1},2:{KEK_2}"))
    assert out == {"ring": {"1": KEK_1, "2": KEK_2}, "current": 2}


def test_current_can_stay_on_an_older_kek(tmp_path):
    out = _ok(_settings(tmp_path, **PRODUCTION, KEYHOUSE_KEK_RING=f"1:{KEK_1},2:{KEK_2}", KEYHOUSE_KEK_CURRENT="1"))
    assert out["current"] == 1


def test_ring_from_a_file(tmp_path):
    ring_file = tmp_path / "ring"
    ring_file.write_text(f"3:{KEK_1}\n")
    out = _ok(_settings(tmp_path, **PRODUCTION, KEYHOUSE_KEK_RING_FILE=str(ring_file)))
    assert out == {"ring": {"3": KEK_1}, "current": 3}


def test_nonsense_is_refused_in_every_mode(tmp_path):
    short = base64.b64encode(bytes(16)).decode()  # long enough for env_key_ring, too short for AES-256
    for env in (
        {"KEYHOUSE_KEK_RING": f"1:{short}"},
        {"KEYHOUSE_KEK_RING": "1:" + "!" * 44},
        {"KEYHOUSE_KEK_RING": f"x:{KEK_1}"},
        {"KEYHOUSE_KEK_RING": f"1:{KEK_1}", "KEYHOUSE_KEK_CURRENT": "2"},
    ):
        for mode in ({}, PRODUCTION):
            result = _settings(tmp_path, **mode, **env)
            assert result.returncode != 0 and "KEYHOUSE_KEK_RING" in result.stderr, env


def test_development_generates_one_kek_under_var(tmp_path):
    first, second = _ok(_settings(tmp_path)), _ok(_settings(tmp_path))
    assert first == second and first["current"] == 0
    assert len(base64.b64decode(first["ring"]["0"])) == 32
    assert (tmp_path / "var" / "kek-dev").stat().st_mode & 0o777 == 0o600
