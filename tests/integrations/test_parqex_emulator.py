"""The ParqEx client against the emulator over a live server: the seed's answer field for field,
the five headers, gzip, 401 "Invalid Access Token", and the failure controls."""

import json
from pathlib import Path

import pytest
import requests

from apps.integrations.http import AuthFailed, Malformed, Transient
from apps.integrations.parqex.client import SYNC_PATH
from apps.integrations.parqex.fixture import SEED_PATH
from tests.integrations.parqex_support import client_for, control

pytestmark = pytest.mark.django_db(transaction=True)


SEED_TEXT = Path("/work/shared/seeds/004_477b2158d878b287.txt")  # the vendor's page, where it is at hand


def _seed_text_devices() -> list:
    if not SEED_TEXT.exists():
        return json.loads(SEED_PATH.read_text())["devices"]
    text = SEED_TEXT.read_text(encoding="utf-8")
    start = text.index('{\n  "devices"')
    return json.JSONDecoder().raw_decode(text[start:])[0]["devices"]


@pytest.mark.skipif(not SEED_TEXT.exists(), reason="the seed page is not on this machine")
def test_the_fixture_is_the_seeds_json():
    assert json.loads(SEED_PATH.read_text())["devices"] == _seed_text_devices()


def test_sync_answers_the_seed_field_for_field(parqex_url):
    assert client_for(parqex_url).sync() == _seed_text_devices()


def test_sync_sends_the_five_headers_and_gets_gzip(parqex_url):
    from apps.integrations.parqex.client import HEADERS

    assert HEADERS == {
        "Accept": "application/json",
        "Accept-Encoding": "gzip",
        "Accept-Charset": "utf-8",
        "Content-Type": "application/json",
    }
    http = client_for(parqex_url).http
    response = http.request("GET", SYNC_PATH)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json()["devices"][0]["blackbox_code"] == "20000c2a6908848d"


def test_plain_json_when_gzip_is_not_asked(parqex_url):
    response = requests.get(
        f"{parqex_url}{SYNC_PATH}",
        headers={"Authorization": "Bearer parqex-emulator-token", "Accept-Encoding": "identity"},
        timeout=5,
    )
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
    assert len(response.json()["devices"]) == 2


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "parqex-emulator-token"}])
def test_a_missing_or_wrong_token_is_invalid_access_token(parqex_url, headers):
    response = requests.get(f"{parqex_url}{SYNC_PATH}", headers=headers, timeout=5)
    assert response.status_code == 401 and response.json() == {"error": "Invalid Access Token"}


def test_a_wrong_token_is_auth_failed_in_the_client(parqex_url):
    with pytest.raises(AuthFailed):
        client_for(parqex_url, token="not-the-token").sync()


def test_failure_controls_401_500_malformed_slow(parqex_url):
    client = client_for(parqex_url, read_timeout=0.5)
    control(parqex_url, "POST", "fail", {"mode": "401"})
    with pytest.raises(AuthFailed):
        client.sync()
    control(parqex_url, "POST", "fail", {"mode": "500", "times": 2})
    for _ in range(2):
        with pytest.raises(Transient, match="HTTP 500"):
            client.sync()
    control(parqex_url, "POST", "fail", {"mode": "malformed"})
    with pytest.raises(Malformed):
        client.sync()
    control(parqex_url, "POST", "fail", {"mode": "slow", "seconds": 1.5})
    with pytest.raises(Transient, match="timed out"):
        client.sync()
    assert len(client.sync()) == 2  # failures used up: the seed again


def test_a_body_without_devices_is_malformed(parqex_url):
    control(parqex_url, "PUT", "state", {"devices": [{"id": "x", "doors": "none"}]})
    with pytest.raises(Malformed, match="doors"):
        client_for(parqex_url).sync()


def test_toggle_battery_lost_contact_and_auto_close(parqex_url):
    door_id = "a42308f43dbfaa8b1960a20ac4317b05"  # auto-close on, 3600 s; OPEN in the seed
    assert client_for(parqex_url).sync()[1]["doors"][0]["state"] == "OPEN"  # the fixture as it is
    assert control(parqex_url, "POST", f"doors/{door_id}/toggle")["state"] == "CLOSED"
    assert control(parqex_url, "POST", f"doors/{door_id}/toggle")["state"] == "OPEN"
    assert client_for(parqex_url).sync()[1]["doors"][0]["state"] == "OPEN"  # not an hour yet
    control(parqex_url, "PATCH", f"doors/{door_id}", {"door_auto_close_delay": 0})
    assert client_for(parqex_url).sync()[1]["doors"][0]["state"] == "CLOSED"  # closed by itself
    control(parqex_url, "PATCH", f"doors/{door_id}", {"bluetooth_sensor_battery_level": 12})
    control(
        parqex_url, "PATCH", "controllers/35ff0e08ac8eb84ca097a894541ba049", {"last_contact": "2019-01-01 00:00:00"}
    )
    controller = client_for(parqex_url).sync()[1]
    assert controller["last_contact"] == "2019-01-01 00:00:00"  # lost contact
    assert controller["doors"][0]["bluetooth_sensor_battery_level"] == 12
