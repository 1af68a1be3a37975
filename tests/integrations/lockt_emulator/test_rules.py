# ruff: noqa: E501 - one case per line, as the spec tables print them
"""Every row of spec §5 (85 rows, dump L248–L332), one test each, named by its dump row."""

import pytest

from apps.integrations.lockt.emulator.rules import RULES
from tests.integrations.lockt_emulator.conftest import existing_user, new_user

UPDATE = {"update_existing": "true"}
LEGACY = {"user_update_match": "legacy"}


def level(**kw):
    return {"accesslevels": [{"name": "Lobby", "doors": [{"id": 166, "schedule_id": 543}], **kw}]}


def fob(**kw):
    return {
        "fobs": [
            {"name": "Fob 9", "id_num": "F9", "card_num": 5599, "access_effective": "", "access_expires": "", **kw}
        ]
    }


def fob_put(**kw):
    return {"fobs": [{"id": 443, "user_id": 1693, **kw}]}


def users(obj, **options):
    return {"users": [obj], "options": options}


def ids(node, value):
    return {node: [{"id": value}]}


LONG_CARD = "12345678901"  # 11 digits; card_num_max_len is 10
LONG_PIN = "1234567"  # 7 digits; pin_max_len is 6

# row: (method, path, body, switches, expected message | expected 200 summary)
CASES = {
    "L248": ("POST", "accesslevel", level(doors=[{"id": 166, "schedule_id": 543}, {"id": 166, "schedule_id": 543}]), {}, "Duplicate door id found: 166"),
    "L249": ("POST", "accesslevel", level(doors=[{"id": 166, "schedule_id": 9999}]), {}, "Invalid schedule id found: 9999"),
    "L250": ("POST", "accesslevel", level(name="Security"), {}, "Access Level Name Already Exists: Security"),
    "L251": ("POST", "accesslevel", level(name=" "), {}, "Missing or blank name found"),
    "L252": ("POST", "accesslevel", level(doors=[{"id": 9999, "schedule_id": 543}]), {}, "Invalid door id found: 9999"),
    "L253": ("DELETE", "credential", ids("credentials", 443), {}, "Invalid credential id found, credential is a Fob: 443"),
    "L254": ("DELETE", "credential", ids("credentials", 9999), {}, "Invalid credential id found: 9999"),
    "L255": ("DELETE", "credential", ids("credentials", ""), {}, "Missing or blank id found"),
    "L256": ("DELETE", "credential", ids("credentials", "33A"), {}, "Non-Numeric id found: 33A"),
    "L257": ("DELETE", "door", ids("doors", 9999), {}, "Invalid door id found: 9999"),
    "L258": ("DELETE", "door", ids("doors", ""), {}, "Missing or blank id found"),
    "L259": ("GET", "door?user_id=", None, {}, "Missing or blank user_id found"),
    "L260": ("POST", "door", {"doors": [{"name": "Office Door"}]}, {}, "Door Name Already Exists: Office Door"),
    "L261": ("POST", "door", {"doors": [{"name": ""}]}, {}, "Missing or blank name found"),
    "L262": ("DELETE", "fob", ids("fobs", 613832), {}, "Invalid fob id found, credential is not a Fob: 613832"),
    "L263": ("DELETE", "fob", ids("fobs", ""), {}, "Missing or blank id found"),
    "L264": ("DELETE", "fob", ids("fobs", "7l34"), {}, "Non-Numeric id found: 7l34"),
    "L265": ("POST", "fob", fob(access_effective="05/05/2022"), {}, "Invalid access_effective date format found: 05/05/2022"),
    "L266": ("POST", "fob", fob(access_expires="2022-13-45 08:00:00"), {}, "Invalid access_expires date format found: 2022-13-45 08:00:00"),
    "L267": ("POST", "fob", fob(card_num="10000"), {}, "Card Number Already Exists: 10000"),
    "L268": ("POST", "fob", fob(card_num=LONG_CARD), {}, f"Invalid card_num length found: {LONG_CARD}"),
    "L269": ("POST", "fob", fob(card_num="55A9"), {}, "Non-Numeric card_num found: 55A9"),
    "L270": ("POST", "fob", fob(id_num=""), {}, "Missing or blank id_num found"),
    "L271": ("POST", "fob", fob(name="Fob 1A"), {}, "Fob Name Already Exists: Fob 1A"),
    "L272": ("POST", "fob", {"fobs": [fob()["fobs"][0], fob(card_num=5600, id_num="F10")["fobs"][0]]}, {}, "Fob Name Already Exists: Fob 9"),
    "L273": ("POST", "fob", fob(name=""), {}, "Missing or blank name found"),
    "L274": ("PUT", "fob", fob_put(access_effective="June 10"), {}, "Invalid access_effective date format found: June 10"),
    "L275": ("PUT", "fob", fob_put(access_expires="2022-06-10 25:00:00"), {}, "Invalid access_expires date format found: 2022-06-10 25:00:00"),
    "L276": ("PUT", "fob", fob_put(card_num="11000"), {}, "Card Number Already Exists: 11000"),
    "L277": ("PUT", "fob", fob_put(card_num=LONG_CARD), {}, f"Invalid card_num length found: {LONG_CARD}"),
    "L278": ("PUT", "fob", fob_put(card_num="1O000"), {}, "Non-Numeric card_num found: 1O000"),
    "L279": ("PUT", "fob", fob_put(id_num=""), {}, "Missing or blank id_num found"),
    "L280": ("PUT", "fob", fob_put(name="Office Floor 2 FOB 1"), {}, "Fob Name Already Exists: Office Floor 2 FOB 1"),
    "L281": ("PUT", "fob", fob_put(name="Fob 1A"), {}, "Fob Name Already Exists: Fob 1A"),
    "L282": ("PUT", "fob", fob_put(name=""), {}, "Missing or blank name found"),
    "L283": ("POST", "location", {"locations": [{"name": "Main Campus", "locationtype": 175}]}, {}, "Invalid location type id found: 175"),
    "L284": ("POST", "location", {"locations": [{"name": "Main Campus", "locationtype": ""}]}, {}, "Missing or blank locationtype found"),
    "L285": ("POST", "location", {"locations": [{"name": "Headquarters", "locationtype": 23981}]}, {}, "Location Name Already Exists: Headquarters"),
    "L286": ("POST", "location", {"locations": [{"name": "", "locationtype": 23981}]}, {}, "Missing or blank name found"),
    "L287": ("DELETE", "user", ids("users", 4432), {}, "Invalid user id found: 4432"),
    "L288": ("DELETE", "user", ids("users", ""), {}, "Missing or blank id found"),
    "L289": ("DELETE", "user", ids("users", "44x2"), {}, "Non-Numeric id found: 44x2"),
    "L290": ("POST", "user", users(new_user(access_effective="2022/01/24")), {}, "Invalid access_effective date format found: 2022/01/24"),
    "L291": ("POST", "user", users(new_user(access_expires="tomorrow")), {}, "Invalid access_expires date format found: tomorrow"),
    "L292": ("POST", "user", users(new_user(accesslevels=[{"id": 208}, {"id": 208}])), {}, "Duplicate Assigned Access Levels found: 208"),
    "L293": ("POST", "user", users(new_user(accesslevels=[{"id": 574}, {"id": 123}])), {}, "Invalid access level id found: 123"),
    "L294": ("POST", "user", users(new_user(card_num="8769")), {}, "Card Number Already Exists: 8769"),
    "L295": ("POST", "user", users(new_user(card_num=LONG_CARD)), {}, f"Invalid card_num length found: {LONG_CARD}"),
    "L296": ("POST", "user", users(new_user(card_num="A8914")), {}, "Non-Numeric card_num found: A8914"),
    "L297": ("POST", "user", users(new_user(email="Susan.Brown@web.place")), {}, "Email Address Already Exists: Susan.Brown@web.place"),
    "L298": ("POST", "user", users(new_user(email="")), {}, "Missing or blank email found"),
    "L299": ("POST", "user", users(new_user(email="rgreswell0@@@@gravatar.com")), {}, "Invalid email address found: rgreswell0@@@@gravatar.com"),
    "L300": ("POST", "user", users(new_user(first_name="")), {}, "Missing or blank first_name found"),
    "L301": ("POST", "user", users(new_user(id=...)), {}, "Missing or blank id found"),
    "L302": ("POST", "user", users(new_user(id="new")), {}, "Non-Numeric id found: new"),
    "L303": ("POST", "user", users(new_user(id_num="329359")), {}, "ID Number Already Exists: 329359"),
    "L304": ("POST", "user", users(new_user(id_num="")), {}, "Missing or blank id_num found"),
    "L305": ("POST", "user", users(new_user(last_name=None)), {}, "Missing or blank last_name found"),
    "L306": ("POST", "user", users(new_user(phone="")), {}, "Missing or blank phone found"),
    "L307": ("POST", "user", users(new_user(phone="555-12")), {}, "Invalid phone number found: 555-12"),
    "L308": ("POST", "user", users(new_user(pin=LONG_PIN)), {}, f"Invalid pin length found: {LONG_PIN}"),
    "L309": ("POST", "user", users(new_user(pin="")), {}, "Missing or blank pin found"),
    "L310": ("POST", "user", users(new_user(pin="12a4")), {}, "Non-Numeric pin found: 12a4"),
    "L311": ("POST", "user", users(existing_user(access_effective="24-01-2022"), **UPDATE), {}, "Invalid access_effective date format found: 24-01-2022"),
    "L312": ("POST", "user", users(existing_user(access_expires="2022-10-29 00:00"), **UPDATE), {}, "Invalid access_expires date format found: 2022-10-29 00:00"),
    "L313": ("POST", "user", users(existing_user(accesslevels=[{"id": 364}, {"unid": 364}]), **UPDATE), {}, "Duplicate Assigned Access Levels found: 364"),
    "L314": ("POST", "user", users(existing_user(accesslevels=[{"id": 789}]), **UPDATE), {}, "Invalid access level id found: 789"),
    "L315": ("POST", "user", users(existing_user(card_num=LONG_CARD), **UPDATE), {}, f"Invalid card_num length found: {LONG_CARD}"),
    "L316": ("POST", "user", users(existing_user(card_num="A8914"), **UPDATE), {}, "Non-Numeric card_num found: A8914"),
    # "Used for update determination": in legacy matching a card number finds the user to update.
    "L317": ("POST", "user", users(new_user(id_num="NEW-1", email="new@web.place", card_num="8769"), **UPDATE), LEGACY, {"updated": 1, "inserted": 0}),
    "L318": ("POST", "user", users(existing_user(email="rgreswell0@gravatar.com"), **UPDATE), {}, "Email Address Already Exists: rgreswell0@gravatar.com"),
    "L319": ("POST", "user", users(existing_user(email=""), **UPDATE), {}, "Missing or blank email found"),
    "L320": ("POST", "user", users(existing_user(email="susan.brown@web"), **UPDATE), {}, "Invalid email address found: susan.brown@web"),
    "L321": ("POST", "user", users(existing_user(first_name=""), **UPDATE), {}, "Missing or blank first_name found"),
    "L322": ("POST", "user", users(existing_user(id=""), **UPDATE), LEGACY, "Missing or blank id found"),
    "L323": ("POST", "user", users(existing_user(id="16g3"), **UPDATE), LEGACY, "Non-Numeric id found: 16g3"),
    # A valid id is what makes a POST an update (L3337).
    "L324": ("POST", "user", users(existing_user(id="1693"), **UPDATE), {}, {"updated": 1, "inserted": 0}),
    "L325": ("POST", "user", users(existing_user(id_num=""), **UPDATE), {}, "Missing or blank id_num found"),
    # In legacy matching, an id_num match makes it an update whatever the id.
    "L326": ("POST", "user", users(existing_user(id=-1, email="other@web.place", card_num=""), **UPDATE), LEGACY, {"updated": 1, "inserted": 0}),
    "L327": ("POST", "user", users(existing_user(last_name=""), **UPDATE), {}, "Missing or blank last_name found"),
    "L328": ("POST", "user", users(existing_user(phone=" "), **UPDATE), {}, "Missing or blank phone found"),
    "L329": ("POST", "user", users(existing_user(phone="call me"), **UPDATE), {}, "Invalid phone number found: call me"),
    "L330": ("POST", "user", users(existing_user(pin=LONG_PIN), **UPDATE), {}, f"Invalid pin length found: {LONG_PIN}"),
    "L331": ("POST", "user", users(existing_user(pin=""), **UPDATE), {}, "Missing or blank pin found"),
    "L332": ("POST", "user", users(existing_user(pin="88-22"), **UPDATE), {}, "Non-Numeric pin found: 88-22"),
}  # fmt: skip


def test_every_row_has_a_case():
    assert sorted(CASES) == sorted(r.row for r in RULES)
    assert len(CASES) == 85


@pytest.mark.parametrize("row", sorted(CASES))
def test_row(lockt, row):
    method, path, body, switches, expected = CASES[row]
    if switches:
        assert lockt.control("POST", "switches", switches).status_code == 200
    response = lockt.call(method, path, body)
    if isinstance(expected, dict):
        assert response.status_code == 200, response.content
        summary = response.json()["data"]
        assert summary.items() >= {"submitted": 1, "errors": 0, **expected}.items()
        return
    assert response.status_code == 400, response.content
    payload = response.json()
    if method == "GET":
        assert payload == {"data": [{"error": expected}]}
        return
    assert payload["result"] == ["Validation errors found. Batch has failed. Details provided."]
    assert "data" not in payload
    messages = [message for error in payload["errors"] for message in error["error"]]
    assert expected in messages
    assert payload["errors"][-1]["input_data"] == body[next(iter(body))][-1]
