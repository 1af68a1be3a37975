import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_key_ring, env_list, env_secret

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("FALSE", False), ("1", True), ("off", False)])
def test_env_bool_reads_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("KH_FLAG", raw)
    assert env_bool("KH_FLAG", not expected) is expected


def test_env_bool_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("KH_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="KH_FLAG"):
        env_bool("KH_FLAG", False)


def test_env_int_rejects_text_and_out_of_range(monkeypatch):
    monkeypatch.setenv("KH_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("KH_NUM", 1)
    monkeypatch.setenv("KH_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("KH_NUM", 1, minimum=1)


def test_unset_and_blank_values_fall_back_to_defaults(monkeypatch):
    monkeypatch.setenv("KH_LIST", "  ")
    monkeypatch.delenv("KH_NUM", raising=False)
    assert env_list("KH_LIST", ["a"]) == ["a"]
    assert env_int("KH_NUM", 7) == 7


def test_env_secret_reads_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("KH_SECRET_FILE", str(secret_file))
    assert env_secret("KH_SECRET", "default") == "from-a-file"


def test_key_ring_parses_ids_and_rejects_short_keys(monkeypatch):
    monkeypatch.setenv("KH_RING", "1:aaaaaaaaaaaaaaaa,2:bbbbbbbbbbbbbbbbbbbb")
    assert env_key_ring("KH_RING", {}) == {1: "a" * 16, 2: "b" * 20}
    monkeypatch.setenv("KH_RING", "1:short")
    with pytest.raises(ImproperlyConfigured):
        env_key_ring("KH_RING", {})


def _import_settings(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "KEYHOUSE_SECRET_PEPPERS"}}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_debug_off_refuses_the_default_secret_key():
    result = _import_settings(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_off_starts_with_real_secrets():
    result = _import_settings(
        DEBUG="false",
        SECRET_KEY="x" * 50,
        KEYHOUSE_SECRET_PEPPERS="1:" + "p" * 32,
        KEYHOUSE_FIRMWARE_SIGNING_KEY="nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",  # docs/FIRMWARE.md
        KEYHOUSE_KEK_RING="1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # docs/PROTOCOL.md §5
    )
    assert result.returncode == 0, result.stderr


def test_nonsense_debug_value_stops_start_up():
    result = _import_settings(DEBUG="yes please")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr
