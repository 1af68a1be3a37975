# ruff: noqa: E501 - one case per line, as the spec tables print them
"""All 50 endpoints of spec §4.4, routed as in §4.5, against the §9.13 doc seed."""

import json

import pytest
from django.test import override_settings
from django.urls import clear_url_caches

from apps.integrations.lockt.emulator.routing import endpoint_ids
from tests.integrations.lockt_emulator.conftest import BASE, Lockt, new_user


def ids_of(data):
    return [row["id"] for row in data]


SUMMARY_INSERT = {"submitted": 1, "inserted": 1, "updated": 0, "errors": 0}
SUMMARY_DELETE = {"submitted": 1, "deleted": 1, "errors": 0}

# id: (method, path, body, expected status, check(data, lockt))
READS = {
    "F02": ("accesslevel", lambda d, _: ids_of(d) == [208, 212, 364, 512, 574, 647929, 647936] and "doors" not in d[1]),
    "F03": ("accesslevel?name=Security", lambda d, _: d == [{"id": 208, "name": "Security", "doors": [{"id": 983, "name": "Office Door"}, {"id": 1087, "name": "Front Door"}]}]),
    "F06": ("credential?user_id=1693", lambda d, _: ids_of(d) == [613832, 614010] and d[0]["user"] == [{"id": 1693, "name": "Brown3, Susan3"}]),
    "F07": ("credential", lambda d, _: {335, 129813, 443, 613832}.issubset(ids_of(d)) and next(c for c in d if c["id"] == 443)["user"] == []),
    "F08": ("credential?card_num=1003", lambda d, _: d == [{"id": 335, "card_num": "1003", "name": "1003", "credential_key": "AAAA-BBBB-1111-2222", "claim_status": "Claimed", "user": [{"id": 300, "name": "User, Test"}]}]),
    "F09": ("credential?id=129813", lambda d, _: ids_of(d) == [129813] and d[0]["claim_status"] == "Unclaimed"),
    "F10": ("credentialsummary", lambda d, _: d == [{"credentials": 7, "claimed": 3, "unclaimed": 4}]),
    "F11": ("delegate", lambda d, _: d[0] == {"id": 647929, "name": "delegate_af5abaf069caec3a33047702bfa6128a", "access_effective": "2022-09-08 11:00:00", "access_expires": "2022-09-08 12:00:00", "doors": [{"id": 187, "name": "Room 1"}]}),
    "F15": ("door?id_num=329359", lambda d, _: ids_of(d) == [166, 174, 187]),
    "F16": ("door?user_id=1693", lambda d, _: ids_of(d) == [166, 174, 187] and d[0] == {"id": 166, "type": "Access Controlled Door", "name": "Office Supplies", "location": "Main Hall", "enabled": True, "controller": "BEST Switch™ API"}),
    "F17": ("door", lambda d, _: ids_of(d) == [166, 174, 187, 446, 603, 983, 1087, 611127]),
    "F19": ("doorstate", lambda d, _: d == [{"id": 187, "name": "Room 1", "battery_level": 0.64}, {"id": 446, "name": "Room 2", "battery_level": 0.74}, {"id": 611127, "name": "Room 3", "battery_level": 0.99}]),
    "F20": ("events", lambda d, _: ids_of(d) == [865, 864, 837] and "subcode" not in d[2] and d[0]["hw_time"] == "2021-11-18T16:15:28.000Z" and d[0]["db_time"] == "2021-11-19T00:47:09.651Z"),
    "F21": ("events?id=837", lambda d, _: ids_of(d) == [865, 864]),
    "F23": ("fob?card_num=10000", lambda d, _: d == [{"id": 443, "id_num": "10000", "name": "Office Floor 1 FOB 1", "card_num": "10000", "credential_key": "XXXX-XXXX-XXXX-XXXX", "enabled": False, "access_effective": "2022-07-10T09:00:00.000Z", "access_expires": "2022-07-10T12:00:00.000Z", "accesslevels": []}]),
    "F24": ("fob?id_num=10000", lambda d, _: ids_of(d) == [232, 443]),
    "F25": ("fob?name=Fob%201A", lambda d, _: ids_of(d) == [614010]),
    "F26": ("fob?id=443", lambda d, _: ids_of(d) == [443]),
    "F27": ("fob", lambda d, _: ids_of(d) == [232, 443, 614010]),
    "F30": ("location", lambda d, _: d[0] == {"id": 123456, "name": "North Region", "type": "Region", "enabled": False}),
    "F32": ("locationtype", lambda d, _: {"id": 23981, "name": "Building"} in d and {"id": 1345, "name": "Floor"} in d),
    "F33": ("schedule", lambda d, _: d[0] == {"id": 543, "name": "0800-1700 M-F, 1200-1500 Sat", "d0": 1, "d1": 1, "d2": 1, "d3": 1, "d4": 1, "d5": 0, "d6": 0, "start": "08:00:00", "stop": "16:59:59"}),
    "F35": ("user", lambda d, _: ids_of(d) == [244, 300, 1693, 5002, 5003] and set(d[0]) == {"id", "id_num", "first_name", "last_name", "card_num", "credential_key", "email", "phone", "access_effective", "access_expires", "enabled", "accesslevels"}),
    "F36": ("user?missingcreds", lambda d, _: ids_of(d) == [5003]),
    "F37": ("user?privileged", lambda d, _: ids_of(d) == [5001]),
    "F38": ("user?installers", lambda d, _: ids_of(d) == [5002]),
    "F39": ("user?id=1693", lambda d, _: d[0]["pin"] == "8822" and d[0]["card_num"] == "8769" and d[0]["accesslevels"] == [{"unid": 364, "id": 364, "name": "Office Doors"}] and d[0]["credentials"][1] == {"id": 614010, "name": "Fob 1A", "card_num": "10050", "credential_key": "YYYY-YYYY-YYYY-YYYY", "fob": True}),
    "F40": ("user?id_num=329359", lambda d, _: ids_of(d) == [1693] and len(d[0]["credentials"]) == 2),
    "S01": ("about", lambda d, _: d["version"] == "1.1.0" and d["release_date"] == "Jul 10, 2022"),
    "S03": ("maintenance", lambda d, _: d == []),
    "S04": ("object?listtypes", lambda d, _: len(d) == 15 and d[0] == {"object": "accesslevel"} and {"object": "user_delete"} in d),
    "S05": ("object?type=location", lambda d, _: d == [{"property": "id", "datatype": "integer", "description": "The unique, system assigned id of the location."}, {"property": "name", "datatype": "string", "description": "The name of the location"}, {"property": "type", "datatype": "string", "description": "The type of the location."}, {"property": "enabled", "datatype": "boolean", "description": "Indicates whether the location is currently enabled or disabled."}]),
    "S06": ("ping", lambda d, _: d == {"ping": "pong"}),
    "S07": ("settings", lambda d, _: d == {"batch_size": 100}),
    "S08": ("site", lambda d, _: isinstance(d["name"], str)),
}  # fmt: skip


def _user_levels(lockt, rid):
    return [lv["id"] for lv in lockt.data(f"user?id={rid}")[0]["accesslevels"]]


WRITES = {
    "F01": ("DELETE", "accesslevel", {"accesslevels": [{"id": 574}]}, SUMMARY_DELETE, lambda lk: 574 not in ids_of(lk.data("accesslevel")) and _user_levels(lk, 244) == []),
    "F04": ("POST", "accesslevel", {"accesslevels": [{"name": "Lobby", "doors": [{"id": 603, "schedule_id": 1404}]}]}, SUMMARY_INSERT, lambda lk: lk.data("accesslevel?name=Lobby")[0]["doors"] == [{"id": 603, "name": "Maintenance Office"}]),
    "F05": ("DELETE", "credential", {"credentials": [{"id": 335}]}, SUMMARY_DELETE, lambda lk: lk.data("credential?id=335") == []),
    "F12": ("POST", "delegate", {"delegates": [{"from_user_id": "1693", "to_user_id": "244", "access_effective": "2030-01-01 00:00:00", "access_expires": "2030-01-02 00:00:00", "doors": [{"id": 166}]}]}, {"submitted": 1, "processed": 1, "errors": 0}, lambda lk: lk.data("delegate")[-1]["doors"] == [{"id": 166, "name": "Office Supplies"}] and 166 in ids_of(lk.data("door?user_id=244"))),
    "F13": ("POST", "delegate?purge", None, {"submitted": 2, "deleted": 2, "errors": 0}, lambda lk: lk.data("delegate") == []),
    "F14": ("DELETE", "door", {"doors": [{"id": 1087}]}, SUMMARY_DELETE, lambda lk: 1087 not in ids_of(lk.data("door")) and "doors" not in lk.data("accesslevel?name=Housekeeping")[0]),
    "F18": ("POST", "door", {"doors": [{"name": "Door 1"}]}, SUMMARY_INSERT, lambda lk: next(d for d in lk.data("door") if d["name"] == "Door 1")["controller"] == "BEST Switch™ API"),
    "F22": ("DELETE", "fob", {"fobs": [{"id": 443}]}, SUMMARY_DELETE, lambda lk: lk.data("fob?id=443") == []),
    "F28": ("POST", "fob", {"fobs": [{"name": "Fob 1", "id_num": "ABC123", "card_num": 5599, "access_effective": "2022-05-05 05:00:00", "access_expires": "2022-05-25 08:00:00"}]}, SUMMARY_INSERT, lambda lk: lk.data("fob?card_num=5599")[0]["access_expires"] == "2022-05-25T08:00:00.000Z"),
    "F29": ("PUT", "fob", {"fobs": [{"id": "443", "user_id": "1693", "access_effective": "2022-06-10 05:00:00", "access_expires": "2022-06-10 08:00:00"}]}, {"submitted": 1, "inserted": 0, "updated": 1, "errors": 0}, lambda lk: 443 in [c["id"] for c in lk.data("user?id=1693")[0]["credentials"]]),
    "F31": ("POST", "location", {"locations": [{"name": "Main Campus", "locationtype": 23981}], "options": {"validate_fails_batch": "true"}}, SUMMARY_INSERT, lambda lk: {"id": lk.data("location")[-1]["id"], "name": "Main Campus", "type": "Building", "enabled": False} in lk.data("location")),
    "F34": ("DELETE", "user", {"users": [{"id": 1693}]}, SUMMARY_DELETE, lambda lk: lk.data("user?id=1693") == [] and lk.data("credential?card_num=8769") == [] and lk.data("credential?id=614010")[0]["user"] == []),
    "F41": ("POST", "user", {"users": [new_user()], "options": {"validate_fails_batch": "true"}}, SUMMARY_INSERT, lambda lk: lk.data("user?id_num=N-1")[0]["card_num"] == "8770"),
    "F42": ("PUT", "user", {"users": [{"id": "1693", "enabled": False, "accesslevels": [{"id": 208}]}]}, {"submitted": 1, "inserted": 0, "updated": 1, "errors": 0}, lambda lk: lk.data("user?id=1693")[0]["enabled"] is False and _user_levels(lk, 1693) == [208]),
    "S02": ("POST", "anonymize?user_id=1693", None, {"submitted": 1, "processed": 1, "errors": 0}, lambda lk: lk.data("user?id=1693")[0]["first_name"] == "Anonymized"),
}  # fmt: skip


def test_the_tables_cover_all_50_endpoints():
    assert set(READS) | set(WRITES) == endpoint_ids()
    assert len(endpoint_ids()) == 50


@pytest.mark.parametrize("endpoint", sorted(READS))
def test_read(lockt, endpoint):
    path, check = READS[endpoint]
    response = lockt.get(path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert check(response.json()["data"], lockt), response.json()


@pytest.mark.parametrize("endpoint", sorted(WRITES))
def test_write(lockt, endpoint):
    method, path, body, summary, check = WRITES[endpoint]
    response = lockt.call(method, path, body)
    assert response.status_code == 200, response.content
    assert response.json() == {"data": summary}
    assert check(lockt)


def test_get_error_envelope(lockt):
    for path in (
        "events?id=",
        "events?id=abc",
        "credential?user_id=999999",
        "door?user_id=12x",
        "door?user_id=424242",
        "object",
        "object?type=nothing",
    ):
        response = lockt.get(path)
        assert response.status_code == 400, path
        body = response.json()
        assert list(body) == ["data"] and list(body["data"][0]) == ["error"], path


def test_unknown_lookups_answer_empty_arrays(lockt):
    for path in (
        "user?id=424242",
        "user?id_num=nobody",
        "fob?id=335",
        "credential?card_num=0",
        "accesslevel?name=security",
        "door?id_num=nobody",
    ):
        assert lockt.data(path) == [], path


def test_reads_are_not_keyhouse_envelopes(lockt):
    body = lockt.get("ping").json()
    assert "success" not in body and "error" not in body


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_APIUSER": "9r8ehveyb5h8mnwwet4yf9ugjynz8pkn"},
        {"HTTP_APIUSER": "9r8ehveyb5h8mnwwet4yf9ugjynz8pkn", "HTTP_APIKEY": "wrong"},
        {"HTTP_APIUSER": "nobody", "HTTP_APIKEY": "x"},
    ],
    ids=["no-headers", "no-apikey", "wrong-apikey", "unknown-apiuser"],
)
def test_auth_required(lockt, headers):
    for method, path in (("GET", "ping"), ("POST", "door"), ("DELETE", "user"), ("GET", "nowhere")):
        response = lockt.call(method, path, {"doors": [{"name": "X"}]}, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"data": [{"error": "Access denied."}]}


def test_unknown_path_and_method_are_404(lockt):
    assert lockt.get("users/1").status_code == 404
    assert lockt.get("nowhere").json() == {"data": [{"error": "The resource was not found."}]}
    assert lockt.put("door", {"doors": [{"id": 166}]}).status_code == 404  # no PUT /door
    assert lockt.post("schedule", {}).status_code == 404


def test_no_csrf_and_no_keyhouse_session_needed(client, db):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    response = Lockt(csrf_client).post("door", {"doors": [{"name": "Door CSRF"}]})
    assert response.status_code == 200


def test_delete_takes_a_json_body(lockt):
    assert lockt.delete("door").json()["result"] == [
        "No data found or invalid JSON objects supplied. Could not parse input."
    ]
    assert lockt.delete("door", {"doors": [{"id": 603}]}).json()["data"]["deleted"] == 1


def _reload_urls(enabled):
    import importlib

    import config.urls

    with override_settings(KEYHOUSE_EMULATORS=enabled):
        importlib.reload(config.urls)
        clear_url_caches()


@pytest.fixture
def emulators_off():
    _reload_urls(False)
    yield
    _reload_urls(True)


def test_not_mounted_when_setting_off(lockt, emulators_off):
    response = lockt.get("ping")
    assert response.status_code == 404
    assert b"pong" not in response.content


def _emulators_setting(tmp_path, **env):
    """KEYHOUSE_EMULATORS and whether /_emulators/ is routed, in a fresh interpreter (no pytest)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.keys.conftest import KEK_1
    from tests.keys.test_settings import PRODUCTION

    script = (
        "import django, json; django.setup(); from django.conf import settings as s; from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/_emulators/lockt/api/v1/ping'); routed = True\n"
        "except Resolver404:\n    routed = False\n"
        "print(json.dumps([s.KEYHOUSE_EMULATORS, routed]))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KEYHOUSE_", "DEBUG", "SECRET_KEY"))}
    production = {**PRODUCTION, "KEYHOUSE_KEK_RING": f"1:{KEK_1}"} if env.pop("production", False) else {}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", KEYHOUSE_VAR_DIR=str(tmp_path / "var"), **production, **env)
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script], cwd=root, env=clean, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, [True, True]),
        ({"KEYHOUSE_EMULATORS": "false"}, [False, False]),
        ({"production": True}, [False, False]),
        ({"production": True, "KEYHOUSE_EMULATORS": "true"}, [True, True]),
    ],
    ids=["debug-default-on", "debug-set-off", "production-default-off", "production-set-on"],
)
def test_setting_defaults(tmp_path, env, expected):
    assert _emulators_setting(tmp_path, **env) == expected


def test_emulator_urls_lists_every_vendor():
    from apps.integrations import emulator_urls

    assert [str(p.pattern) for p in emulator_urls.urlpatterns] == ["lockt/", "parqex/", "smartphonekey/"]
    assert BASE == "/_emulators/lockt/"


def test_json_is_utf8(lockt):
    raw = lockt.get("door").content.decode()
    assert "BEST Switch™ API" in raw
    assert json.loads(raw)


def test_an_emulator_crash_answers_lockts_500(lockt, monkeypatch):
    from apps.integrations.lockt.emulator import routing

    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(routing.ROUTES, ("GET", "ping"), [(None, "S06", broken)])
    response = lockt.get("ping")
    assert response.status_code == 500
    assert response.json() == {
        "result": ["An Unexpected Error has occurred. Request has been terminated and exception flagged."],
        "errors": [],
    }
