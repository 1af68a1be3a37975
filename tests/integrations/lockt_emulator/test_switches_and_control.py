# ruff: noqa: E501 - one case per line
"""§9.9 switches with their defaults, and the /_control/ hooks: instances, reset, clock,
faults, revoke, events, generate."""

import json

import pytest

from apps.integrations.lockt.emulator.switches import DEFAULTS
from tests.integrations.lockt_emulator.conftest import Lockt, new_user

# -- switches -----------------------------------------------------------------------------------


def test_switch_defaults_are_listed(lockt):
    data = lockt.control("GET", "switches").json()["data"]
    assert data == {**DEFAULTS, "batch_limit": 100}
    assert data["compat_blank_user_selector_returns_all"] is True
    assert data["user_update_match"] == "id"


@pytest.mark.parametrize(
    "body",
    [
        {"no_such": True},
        {"accept_url_aliases": "yes"},
        {"batch_limit": 0},
        {"user_update_match": "email"},
        {"fault_door_delete_false_invalid_rate": 2},
        {"card_num_max_len": 0},
        {"event_cache_size": True},
    ],
)
def test_switch_refusals(lockt, body):
    response = lockt.control("POST", "switches", body)
    assert response.status_code == 400
    assert list(body)[0] in response.json()["error"]
    assert lockt.control("GET", "switches").json()["data"] == {**DEFAULTS, "batch_limit": 100}


@pytest.mark.parametrize("selector", ["id", "id_num"])
def test_blank_user_selector(lockt, selector):
    everyone = lockt.data("user")
    assert lockt.data(f"user?{selector}=") == everyone  # §7 L339/L340, on by default
    lockt.control("POST", "switches", {"compat_blank_user_selector_returns_all": False})
    response = lockt.get(f"user?{selector}=")
    assert response.status_code == 400
    assert response.json() == {"data": [{"error": f"Missing or blank {selector} found"}]}


def test_accesslevel_duplicate_door_across_batch(lockt):
    body = {
        "accesslevels": [
            {"name": "Access Level 1", "doors": [{"id": 166, "schedule_id": 543}]},
            {"name": "Access Level 2", "doors": [{"id": 174, "schedule_id": 1404}, {"id": 166, "schedule_id": 543}]},
        ]
    }
    response = lockt.post("accesslevel", body)  # §7 L336, on by default: the dump's code example fails
    assert response.json()["errors"][0]["error"] == ["Duplicate door id found: 166"]
    lockt.control("POST", "switches", {"compat_accesslevel_dup_door_across_batch": False})
    assert lockt.post("accesslevel", body).json()["data"]["inserted"] == 2


def test_door_post_batch_names(lockt):
    body = {"doors": [{"name": "Twin"}, {"name": "Twin"}]}
    assert lockt.post("door", body).json()["data"]["inserted"] == 2  # §7 L338, on by default
    lockt.control("POST", "switches", {"compat_door_post_no_batch_name_check": False})
    body = {"doors": [{"name": "Pair"}, {"name": "Pair"}]}
    assert lockt.post("door", body).json()["errors"][0]["error"] == ["Door Name Already Exists: Pair"]


def test_door_delete_false_invalid_rate(lockt):
    lockt.control("POST", "switches", {"fault_door_delete_false_invalid_rate": 1.0})
    assert lockt.delete("door", {"doors": [{"id": 166}]}).json()["errors"][0]["error"] == ["Invalid door id found: 166"]
    lockt.control("POST", "switches", {"fault_door_delete_false_invalid_rate": 0.0})
    assert lockt.delete("door", {"doors": [{"id": 166}]}).status_code == 200


def test_delegate_message_quotes_its_own_value_when_switched(lockt):
    lockt.control("POST", "clock", {"now": "2022-09-01 00:00:00"})
    lockt.control("POST", "switches", {"delegate_error_quotes_expires": False})
    body = {
        "delegates": [
            {
                "from_user_id": 1693,
                "to_user_id": 244,
                "access_effective": "2022-09-08 11:00:00",
                "access_expires": "2022-09-07 12:00:00",
                "doors": [{"id": 166}],
            }
        ]
    }
    assert lockt.post("delegate", body).json()["errors"][0]["error"] == [
        "Invalid access_effective date: 2022-09-08 11:00:00, must be before access_expires"
    ]


def test_user_update_match_legacy_matches_email(lockt):
    lockt.control("POST", "switches", {"user_update_match": "legacy"})
    user = new_user(id_num="329359-X", email="SUSAN.BROWN@web.place", card_num="")
    response = lockt.post("user", {"users": [user], "options": {"update_existing": "true"}})
    assert response.json()["data"]["updated"] == 1
    assert lockt.data("user?id=1693")[0]["id_num"] == "329359-X"


@pytest.mark.parametrize("path", ["users", "accesslevels", "delegates", "doors", "user/", "user?idnum=329359"])
def test_url_aliases(lockt, path):
    assert lockt.get(path).status_code == 200
    lockt.control("POST", "switches", {"accept_url_aliases": False})
    response = lockt.get(path)
    assert response.status_code == 404 or (path.endswith("idnum=329359") and len(response.json()["data"]) > 1)


def test_pending_endpoints_switch(lockt):
    lockt.control("POST", "switches", {"enable_pending_endpoints": False})
    assert lockt.get("fob?id_num=10000").status_code == 404
    assert lockt.post("anonymize?user_id=1693").status_code == 404


def test_strict_content_type(lockt):
    body = json.dumps({"doors": [{"name": "Plain"}]})
    response = lockt.post("door", raw=body, content_type="text/plain")
    assert response.json()["result"] == ["No data found or invalid JSON objects supplied. Could not parse input."]
    lockt.control("POST", "switches", {"strict_content_type": False})
    assert lockt.post("door", raw=body, content_type="text/plain").status_code == 200
    assert lockt.get("ping", content_type="text/plain").status_code == 200  # reads never need it


def test_length_limits_are_settings(lockt):
    lockt.control("POST", "switches", {"card_num_max_len": 3, "pin_max_len": 3})
    errors = lockt.post("user", {"users": [new_user(card_num="1234", pin="1234")]}).json()["errors"][0]["error"]
    assert errors == ["Invalid card_num length found: 1234", "Invalid pin length found: 1234"]


def test_event_cache_size(lockt):
    lockt.control("POST", "switches", {"event_cache_size": 2})
    assert [e["id"] for e in lockt.data("events")] == [865, 864]
    assert [e["id"] for e in lockt.data("events?id=0")] == [865, 864]


def test_pins_may_repeat(lockt):
    """§7 L341: duplicate PINs are never refused."""
    assert lockt.post("user", {"users": [new_user(pin="8822")]}).status_code == 200


# -- instances, auth, reset --------------------------------------------------------------------


def test_instances_are_isolated(client, db, lockt):
    created = lockt.client.post(
        "/_emulators/lockt/_control/instances",
        json.dumps({"apiuser": "acct-b", "apikey": "key-b", "seed": "empty", "batch_limit": 5}),
        content_type="application/json",
    )
    assert created.status_code == 201
    other = Lockt(client, "acct-b", "key-b")
    assert other.data("user") == [] and other.data("settings") == {"batch_size": 5}
    other.post("door", {"doors": [{"name": "Only in B"}]})
    assert "Only in B" in [d["name"] for d in other.data("door")]
    assert "Only in B" not in [d["name"] for d in lockt.data("door")]
    assert Lockt(client, "acct-b", "key-a").get("ping").status_code == 401
    again = lockt.client.post(
        "/_emulators/lockt/_control/instances",
        json.dumps({"apiuser": "acct-b", "apikey": "x"}),
        content_type="application/json",
    )
    assert again.status_code == 409


def test_instance_create_refusals(lockt):
    def post(body):
        return lockt.client.post(
            "/_emulators/lockt/_control/instances", json.dumps(body), content_type="application/json"
        )

    assert post({"apiuser": "x"}).status_code == 400
    assert post({"apiuser": "x", "apikey": "y", "seed": "big"}).status_code == 400
    assert post({"apiuser": "x", "apikey": "y", "batch_limit": -1}).status_code == 400


def test_control_needs_a_known_pair(client, db):
    assert Lockt(client, "nobody", "nothing").control("POST", "reset").status_code == 401


def test_reset_restores_the_seed(lockt):
    lockt.delete("user", {"users": [{"id": 1693}]})
    lockt.control("POST", "switches", {"accept_url_aliases": False})
    lockt.control("POST", "clock", {"now": "2022-01-01 00:00:00"})
    assert lockt.control("POST", "reset").status_code == 200
    assert lockt.data("user?id=1693")[0]["id_num"] == "329359"
    assert lockt.control("GET", "switches").json()["data"]["accept_url_aliases"] is True
    assert lockt.control("GET", "clock").json()["data"]["frozen"] is False


def test_revoke_and_restore(lockt):
    assert lockt.control("POST", "revoke").status_code == 200
    response = lockt.get("ping")
    assert response.status_code == 401 and response.json() == {"data": [{"error": "Access denied."}]}
    assert lockt.control("POST", "restore").status_code == 200
    assert lockt.get("ping").status_code == 200


def test_clock(lockt):
    assert lockt.control("POST", "clock", {"now": "2022-09-07 12:00:00"}).json()["data"] == {
        "now": "2022-09-07T12:00:00.000Z",
        "frozen": True,
    }
    assert lockt.control("POST", "clock", {"now": "soon"}).status_code == 400
    assert lockt.control("POST", "clock", {}).status_code == 400
    assert lockt.control("POST", "clock", {"now": None}).json()["data"]["frozen"] is False


# -- faults ---------------------------------------------------------------------------------------

INSTANCE_ERRORS = [
    "Unable to enumerate dependant record. Batch has been terminated and exception flagged.",
    "Unable to locate template. Batch has been terminated and exception flagged.",
    "The destination host is unreachable.",
    "An Unexpected Error has occurred. Request has been terminated and exception flagged.",
]


@pytest.mark.parametrize("index", range(4))
def test_instance_error_fault(lockt, index):
    lockt.control(
        "POST", "faults", {"kind": "instance_error", "message": index, "count": 1, "status": 503, "retry_after": 7}
    )
    response = lockt.post("door", {"doors": [{"name": "Never"}]})
    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    assert response.json() == {"result": [INSTANCE_ERRORS[index]], "errors": []}
    assert "Never" not in [d["name"] for d in lockt.data("door")]  # nothing applied; fault spent


def test_fault_by_message_text_until_cleared(lockt):
    lockt.control("POST", "faults", {"kind": "instance_error", "message": INSTANCE_ERRORS[1]})
    assert [lockt.get("ping").status_code for _ in range(3)] == [500, 500, 500]
    assert lockt.control("DELETE", "faults").status_code == 200
    assert lockt.get("ping").status_code == 200


def test_timeout_and_slow_faults(lockt):
    lockt.control("POST", "faults", {"kind": "timeout", "delay": 0, "count": 1})
    response = lockt.get("user")
    assert response.status_code == 504
    assert response.json()["result"] == ["The destination host is unreachable."]
    lockt.control("POST", "faults", {"kind": "slow", "delay": 0.01, "count": 1})
    assert lockt.get("ping").json() == {"data": {"ping": "pong"}}


def test_malformed_json_and_unauthorized_faults(lockt):
    lockt.control("POST", "faults", {"kind": "malformed_json", "count": 1})
    response = lockt.get("user")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.content)
    lockt.control("POST", "faults", {"kind": "unauthorized", "count": 1})
    assert lockt.get("user").status_code == 401
    assert lockt.get("user").status_code == 200


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "boom"},
        {"kind": "slow", "delay": 1000},
        {"kind": "instance_error", "status": 404},
        {"kind": "instance_error", "message": "made up"},
        {"kind": "slow", "count": 0},
    ],
)
def test_fault_refusals(lockt, spec):
    assert lockt.control("POST", "faults", spec).status_code == 400


def test_faults_do_not_cover_auth_or_unknown_paths(lockt):
    lockt.control("POST", "faults", {"kind": "instance_error"})
    assert lockt.get("nowhere").status_code == 404
    assert lockt.get("ping", headers={}).status_code == 401


# -- events and generated data ---------------------------------------------------------------------


def test_events_hook(lockt):
    lockt.control("POST", "clock", {"now": "2022-09-07 12:00:00"})
    response = lockt.control(
        "POST",
        "events",
        {
            "events": [
                {"code": 48, "device": "Front Door", "card_num": "8769", "user": "Brown3, Susan3"},
                {"code": 49, "subcode": 104, "hw_time": "2022-09-07 11:59:58"},
            ]
        },
    )
    assert response.json() == {"data": [{"id": 866}, {"id": 867}]}
    newest, granted = lockt.data("events?id=865")
    assert newest["id"] == 867 and (newest["code_text"], newest["category"], newest["category_text"]) == (
        "Access Denied",
        2,
        "Door Access Denied",
    )
    assert (newest["subcode"], newest["subcode_text"], newest["hw_time"]) == (
        104,
        "Battery Missing",
        "2022-09-07T11:59:58.000Z",
    )
    assert granted["db_time"] == granted["hw_time"] == "2022-09-07T12:00:00.000Z" and "subcode" not in granted
    assert lockt.control("POST", "events", {"events": []}).status_code == 400
    assert lockt.control("POST", "events", {"events": [{"hw_time": "later"}]}).status_code == 400


def test_generate(client, db, django_assert_max_num_queries):
    lockt = Lockt(client, "bench", "bench-key")
    client.post(
        "/_emulators/lockt/_control/instances",
        json.dumps({"apiuser": "bench", "apikey": "bench-key", "seed": "empty"}),
        content_type="application/json",
    )
    # 11,000 rows in bulk: SQLite caps parameters per statement (≈70 users an INSERT); far below a query a row.
    with django_assert_max_num_queries(300):
        response = lockt.control(
            "POST", "generate", {"users": 3000, "levels": 6, "doors": 12, "credentials": 2000, "levels_per_user": 2}
        )
    assert response.json()["data"] == {"users": 3000, "levels": 6, "doors": 12, "credentials": 2000}
    with django_assert_max_num_queries(8):
        users = lockt.data("user")
    assert len(users) == 3000
    assert len(users[0]["accesslevels"]) == 2 and users[0]["card_num"] != "" and users[-1]["card_num"] == ""
    assert lockt.data("credentialsummary") == [{"credentials": 2000, "claimed": 1000, "unclaimed": 1000}]
    assert len(lockt.data("door?user_id={}".format(users[0]["id"]))) == 4
    assert lockt.control("POST", "generate", {"users": -1}).status_code == 400
