# ruff: noqa: E501 - one case per line
"""Write behaviours: the three options, §9.3 pipeline, §9.4 insert/update, PUT /user (§9.5),
POST /delegate and purge (§9.6), fobs (§9.7), anonymize (§9.8)."""

import pytest

from tests.integrations.lockt_emulator.conftest import existing_user, new_user

PARSE = "No data found or invalid JSON objects supplied. Could not parse input."
FAILED = "Validation errors found. Batch has failed. Details provided."


def door_names(lockt):
    return [d["name"] for d in lockt.data("door")]


def levels_of(lockt, rid):
    return [lv["id"] for lv in lockt.data(f"user?id={rid}")[0]["accesslevels"]]


# -- validate_fails_batch ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [None, True, "true", "TRUE", "maybe"], ids=["absent", "bool", "string", "upper", "junk"]
)
def test_validate_fails_batch_true_applies_nothing(lockt, value):
    body = {"doors": [{"name": "New Door"}, {"name": ""}]}
    if value is not None:
        body["options"] = {"validate_fails_batch": value}
    response = lockt.post("door", body)
    assert response.status_code == 400
    assert response.json() == {
        "result": [FAILED],
        "errors": [{"error": ["Missing or blank name found"], "input_data": {"name": ""}}],
    }
    assert "New Door" not in door_names(lockt)


@pytest.mark.parametrize("value", [False, "false", "False"])
def test_validate_fails_batch_false_applies_the_valid_ones(lockt, value):
    response = lockt.post(
        "door", {"doors": [{"name": "New Door"}, {"name": ""}], "options": {"validate_fails_batch": value}}
    )
    assert response.status_code == 200
    assert response.json() == {
        "data": {"submitted": 2, "inserted": 1, "updated": 0, "errors": 1},
        "errors": [{"error": ["Missing or blank name found"], "input_data": {"name": ""}}],
    }
    assert "New Door" in door_names(lockt)


def test_validate_fails_batch_false_on_deletes(lockt):
    response = lockt.delete(
        "user", {"users": [{"id": 300}, {"id": 4432}], "options": {"validate_fails_batch": "false"}}
    )
    assert response.json()["data"] == {"submitted": 2, "deleted": 1, "errors": 1}
    assert lockt.data("user?id=300") == []


def test_duplicates_inside_one_user_batch(lockt):
    a = new_user(id_num="A1", email="same@web.place", card_num="7001")
    b = new_user(id_num="A2", email="same@web.place", card_num="7002")
    response = lockt.post("user", {"users": [a, b], "options": {"validate_fails_batch": "false"}})
    assert response.json()["data"] == {"submitted": 2, "inserted": 1, "updated": 0, "errors": 1}
    assert response.json()["errors"][0]["error"] == ["Email Address Already Exists: same@web.place"]


# -- update_existing / §9.4 --------------------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"update_existing": "false"}, {"update_existing": False}])
def test_updates_are_ignored_without_update_existing(lockt, options):
    response = lockt.post("user", {"users": [existing_user(first_name="Changed")], "options": options})
    assert response.json() == {"data": {"submitted": 1, "inserted": 0, "updated": 0, "errors": 0}}
    assert lockt.data("user?id=1693")[0]["first_name"] == "Susan3"


@pytest.mark.parametrize("value", [True, "true"])
def test_update_existing_updates_by_id(lockt, value):
    response = lockt.post(
        "user", {"users": [existing_user(first_name="Changed")], "options": {"update_existing": value}}
    )
    assert response.json()["data"] == {"submitted": 1, "inserted": 0, "updated": 1, "errors": 0}
    user = lockt.data("user?id=1693")[0]
    assert (user["first_name"], user["last_name"]) == ("Changed", "Brown")


def test_insert_and_update_in_one_batch(lockt):
    body = {"users": [new_user(), existing_user(phone="8184365134")], "options": {"update_existing": "true"}}
    assert lockt.post("user", body).json()["data"] == {"submitted": 2, "inserted": 1, "updated": 1, "errors": 0}


def test_id_mode_never_matches_by_id_num(lockt):
    """L3337: a matching id_num on an insert is an error, not an implicit update."""
    body = {"users": [new_user(id_num="329359")], "options": {"update_existing": "true"}}
    assert lockt.post("user", body).json()["errors"][0]["error"] == ["ID Number Already Exists: 329359"]


def test_update_with_an_unknown_id(lockt):
    body = {"users": [existing_user(id=4242)], "options": {"update_existing": "true"}}
    assert lockt.post("user", body).json()["errors"][0]["error"] == ["Invalid id found: 4242"]


def test_insert_creates_the_card_and_defaults_enabled(lockt):
    lockt.post("user", {"users": [new_user(enabled=...)]})
    user = lockt.data("user?id_num=N-1")[0]
    assert user["enabled"] is True
    assert user["credentials"][0]["card_num"] == "8770" and user["credentials"][0]["fob"] is False
    assert lockt.data("credential?card_num=8770")[0]["claim_status"] == "Unclaimed"


def test_post_update_card_rules(lockt):
    options = {"update_existing": "true"}
    lockt.post("user", {"users": [existing_user(card_num="9999")], "options": options})
    assert lockt.data("user?id=1693")[0]["card_num"] == "8769"  # has a card: ignored (L3339)
    lockt.post("user", {"users": [existing_user(card_num=-1)], "options": options})
    creds = lockt.data("user?id=1693")[0]["credentials"]
    assert [c["id"] for c in creds] == [614010]  # -1 removes non-fob cards only (L3338)
    lockt.post("user", {"users": [existing_user(card_num="9999")], "options": options})
    assert lockt.data("user?id=1693")[0]["card_num"] == "9999"  # no card now: used


# -- replace_privileges -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "levels", "expected"),
    [
        ({}, [{"id": 208}], [208]),
        ({"replace_privileges": "true"}, [{"id": 208}, {"id": 512}], [208, 512]),
        ({"replace_privileges": False}, [{"id": 208}], [364, 208]),
        ({"replace_privileges": "false"}, [{"id": 364}], [364]),
        ({"replace_privileges": "true"}, [], []),
        ({"replace_privileges": True}, {}, []),
        ({"replace_privileges": "false"}, [], [364]),
    ],
    ids=[
        "default-replaces",
        "replace",
        "add-bool",
        "add-existing",
        "empty-clears",
        "empty-object-clears",
        "empty-add-keeps",
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_replace_privileges(lockt, method, options, levels, expected):
    if method == "POST":
        body = {"users": [existing_user(accesslevels=levels)], "options": {"update_existing": "true", **options}}
    else:
        body = {"users": [{"id": 1693, "accesslevels": levels}], "options": options}
    response = lockt.call(method, "user", body)
    assert response.status_code == 200, response.content
    assert levels_of(lockt, 1693) == expected


# -- PUT /user -----------------------------------------------------------------------------------


def test_put_user_one_object_per_call(lockt):
    response = lockt.put("user", {"users": [{"id": 1693}, {"id": 244}]})
    assert response.status_code == 400
    assert response.json() == {"result": ["Batch size exceeds maximum of 1 objects."], "errors": []}


def test_put_user_changes_only_what_is_sent(lockt):
    before = lockt.data("user?id=244")[0]
    response = lockt.put("user", {"users": [{"id": "244", "access_expires": "2030-01-01 00:00:00"}]})
    assert response.json() == {"data": {"submitted": 1, "inserted": 0, "updated": 1, "errors": 0}}
    after = lockt.data("user?id=244")[0]
    assert after["access_expires"] == "2030-01-01T00:00:00.000Z"
    assert {k: v for k, v in after.items() if k != "access_expires"} == {
        k: v for k, v in before.items() if k != "access_expires"
    }


def test_put_user_card_rules(lockt):
    lockt.put("user", {"users": [{"id": 1693, "card_num": "5555"}]})
    assert lockt.data("user?id=1693")[0]["card_num"] == "8769"
    lockt.put("user", {"users": [{"id": 5003, "card_num": "5555"}]})
    assert lockt.data("user?id=5003")[0]["card_num"] == "5555"
    lockt.put("user", {"users": [{"id": 1693, "card_num": "-1"}]})
    assert [c["fob"] for c in lockt.data("user?id=1693")[0]["credentials"]] == [True]


def test_put_user_window_rules(clock):
    lockt = clock  # now = 2022-09-07 12:00:00
    body = {"users": [{"id": 1693, "access_effective": "2022-09-10 00:00:00", "access_expires": "2022-09-01 00:00:00"}]}
    errors = lockt.put("user", body).json()["errors"][0]["error"]
    assert errors == [
        "Invalid access_effective date: 2022-09-10 00:00:00, must be before access_expires",
        "Invalid access_expires date: 2022-09-01 00:00:00, cannot be in past",
    ]
    assert lockt.put("user", {"users": [{"id": 1693, "access_expires": "2022-09-08 00:00:00"}]}).status_code == 200


def test_put_user_needs_a_known_id(lockt):
    assert lockt.put("user", {"users": [{"enabled": False}]}).json()["errors"][0]["error"] == [
        "Missing or blank id found"
    ]
    assert lockt.put("user", {"users": [{"id": 4242}]}).json()["errors"][0]["error"] == ["Invalid user id found: 4242"]
    assert lockt.put("user", {"users": [{"id": 5001}]}).status_code == 400  # privileged: not a card holder


def test_put_user_validate_fails_batch_false(lockt):
    response = lockt.put("user", {"users": [{"id": 4242}], "options": {"validate_fails_batch": "false"}})
    assert response.status_code == 200
    assert response.json()["data"] == {"submitted": 1, "inserted": 0, "updated": 0, "errors": 1}


# -- delegates -----------------------------------------------------------------------------------


def delegate(**kw):
    obj = {
        "from_user_id": "1693",
        "to_user_id": "244",
        "access_effective": "2022-09-07 22:20:00",
        "access_expires": "2022-09-07 22:53:00",
        "doors": [{"id": 166}, {"id": 174}],
    }
    obj.update(kw)
    return {"delegates": [obj]}


def test_delegate_example_errors_verbatim(lockt):
    lockt.control("POST", "clock", {"now": "2022-09-08 09:00:00"})
    body = delegate(access_effective="2022-09-08 11:00:00", access_expires="2022-09-07 12:00:00", doors=[{"id": 1876}])
    response = lockt.post("delegate", body)
    assert response.status_code == 400
    assert response.json() == {
        "result": [FAILED],
        "errors": [
            {
                "error": [
                    "Door id 1876 is not available to delegate",
                    "Invalid access_effective date: 2022-09-07 12:00:00, must be before access_expires",
                    "Invalid access_expires date: 2022-09-07 12:00:00, cannot be in past",
                ],
                "input_data": body["delegates"][0],
            }
        ],
    }


def test_delegate_is_one_object_and_always_fails_the_batch(clock):
    lockt = clock
    two = {"delegates": delegate()["delegates"] * 2}
    assert lockt.post("delegate", two).json() == {"result": ["Batch size exceeds maximum of 1 objects."], "errors": []}
    bad = {**delegate(doors=[{"id": 603}]), "options": {"validate_fails_batch": "false"}}
    assert lockt.post("delegate", bad).status_code == 400


def test_delegate_creates_an_assigned_level(clock):
    lockt = clock
    assert lockt.post("delegate", delegate()).json() == {"data": {"submitted": 1, "processed": 1, "errors": 0}}
    created = lockt.data("delegate")[-1]
    assert created["name"].startswith("delegate_") and len(created["name"]) == len("delegate_") + 32
    assert created["access_effective"] == "2022-09-07 22:20:00" and created["doors"] == [
        {"id": 166, "name": "Office Supplies"},
        {"id": 174, "name": "Hall Entrance"},
    ]
    assert created["id"] in levels_of(lockt, 244)


def test_delegated_doors_cannot_be_delegated_again(clock):
    """L851: user 300 holds door 187 only through delegates."""
    body = delegate(from_user_id=300, doors=[{"id": 187}])
    assert clock.post("delegate", body).json()["errors"][0]["error"] == ["Door id 187 is not available to delegate"]


def test_delegate_unknown_users(clock):
    errors = clock.post("delegate", delegate(from_user_id="1", to_user_id="")).json()["errors"][0]["error"]
    assert errors == ["Invalid from_user_id found: 1", "Missing or blank to_user_id found"]


def test_purge_removes_only_expired_delegates(clock):
    lockt = clock  # seeded delegates expire 2022-09-08 12:00:00
    lockt.post("delegate", delegate())
    assert lockt.post("delegate?purge").json() == {"data": {"submitted": 3, "deleted": 0, "errors": 0}}
    lockt.control("POST", "clock", {"now": "2022-09-08 12:00:01"})
    assert lockt.post("delegate?purge=1").json() == {"data": {"submitted": 3, "deleted": 3, "errors": 0}}
    assert lockt.data("delegate") == []
    assert levels_of(lockt, 300) == []


# -- fobs, deletes, anonymize ---------------------------------------------------------------------


def test_fob_reassign_and_unassign(lockt):
    lockt.put("fob", {"fobs": [{"id": 443, "user_id": 244}]})
    assert lockt.data("credential?id=443")[0]["user"] == [{"id": 244, "name": "Greswell, Rhea"}]
    lockt.put("fob", {"fobs": [{"id": 443, "user_id": 1693}]})
    assert lockt.data("credential?user_id=244") == [c for c in lockt.data("credential?user_id=244") if c["id"] != 443]
    assert lockt.put("fob", {"fobs": [{"id": 443, "user_id": "0", "access_expires": ""}]}).status_code == 200
    assert lockt.data("credential?id=443")[0]["user"] == []
    assert lockt.data("fob?id=443")[0]["access_expires"] == ""


def test_fob_put_refusals(lockt):
    assert lockt.put("fob", {"fobs": [{"id": 613832, "user_id": 1693}]}).json()["errors"][0]["error"] == [
        "Invalid fob id found: 613832"
    ]
    assert lockt.put("fob", {"fobs": [{"id": 443, "user_id": 99}]}).json()["errors"][0]["error"] == [
        "Invalid user_id found: 99"
    ]


def test_fob_post_makes_an_unclaimed_disabled_fob(lockt):
    lockt.post("fob", {"fobs": [{"name": "Fob 1", "id_num": "ABC123", "card_num": "5599"}]})
    fob = lockt.data("fob?name=Fob%201")[0]
    assert (fob["enabled"], fob["accesslevels"], fob["access_effective"]) == (False, [], "")
    assert lockt.data("credential?id={}".format(fob["id"]))[0]["claim_status"] == "Unclaimed"


def test_new_ids_share_one_counter(lockt):
    lockt.post("door", {"doors": [{"name": "D1"}]})
    lockt.post("fob", {"fobs": [{"name": "F1", "id_num": "F1", "card_num": "4444"}]})
    door_id = next(d["id"] for d in lockt.data("door") if d["name"] == "D1")
    fob_id = lockt.data("fob?card_num=4444")[0]["id"]
    assert fob_id == door_id + 1


def test_anonymize(lockt):
    lockt.control("POST", "events", {"events": [{"user": "Brown3, Susan3", "user_id": 1693, "card_num": "8769"}]})
    assert lockt.post("anonymize?user_id=1693").status_code == 200
    user = lockt.data("user?id=1693")[0]
    assert (user["first_name"], user["last_name"], user["email"], user["pin"]) == ("Anonymized", "User", "", "")
    assert lockt.data("events")[0]["user"] == "User, Anonymized"
    assert lockt.post("anonymize?user_id=4242").status_code == 400


# -- the pipeline ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        '{"door": [{"name": "x"}]}',
        '{"doors": []}',
        '{"doors": {"name": "x"}}',
        '{"doors": ["x"]}',
        "[1]",
    ],
    ids=["empty", "not-json", "wrong-node", "empty-array", "object-not-array", "not-objects", "array-body"],
)
def test_parse_failures(lockt, raw):
    response = lockt.post("door", raw=raw)
    assert response.status_code == 400
    assert response.json() == {"result": [PARSE], "errors": []}


def test_batch_limit(lockt):
    body = {"doors": [{"name": f"Door {n}"} for n in range(101)]}
    assert lockt.post("door", body).json() == {"result": ["Batch size exceeds maximum of 100 objects."], "errors": []}
    assert lockt.post("door", {"doors": body["doors"][:100]}).json()["data"]["inserted"] == 100
    lockt.control("POST", "switches", {"batch_limit": 2})
    assert lockt.data("settings") == {"batch_size": 2}
    three = {"users": [{"id": 1}, {"id": 2}, {"id": 3}]}
    assert lockt.delete("user", three).json()["result"] == ["Batch size exceeds maximum of 2 objects."]


def test_an_applied_batch_is_atomic_per_request(lockt):
    """A failed batch leaves no trace, not even a consumed id."""
    lockt.post("door", {"doors": [{"name": "A"}, {"name": ""}]})
    lockt.post("door", {"doors": [{"name": "B"}]})
    lockt.post("door", {"doors": [{"name": "C"}]})
    ids = {d["name"]: d["id"] for d in lockt.data("door")}
    assert ids["C"] == ids["B"] + 1 and "A" not in ids


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_access_levels_spelling_is_accepted(lockt, method):
    """A39: the behaviours and §5 say `access_levels`; errors echo the object as sent."""
    if method == "POST":
        user = existing_user(accesslevels=...)
        user["access_levels"] = [{"id": 208}]
        body = {"users": [user], "options": {"update_existing": "true"}}
    else:
        body = {"users": [{"id": 1693, "access_levels": [{"id": 208}]}]}
    assert lockt.call(method, "user", body).status_code == 200
    assert levels_of(lockt, 1693) == [208]
    body["users"][0]["access_levels"] = [{"id": 9}]
    response = lockt.call(method, "user", body)
    assert response.json()["errors"][0] == {
        "error": ["Invalid access level id found: 9"],
        "input_data": body["users"][0],
    }


def test_malformed_door_lists(lockt):
    assert lockt.post("accesslevel", {"accesslevels": [{"name": "X", "doors": "166"}]}).json()["errors"][0][
        "error"
    ] == ["Invalid door id found: 166"]
    response = lockt.post("accesslevel", {"accesslevels": [{"name": "Bare ids", "doors": [166, 174]}]})
    assert response.status_code == 200
    assert [d["id"] for d in lockt.data("accesslevel?name=Bare%20ids")[0]["doors"]] == [166, 174]
