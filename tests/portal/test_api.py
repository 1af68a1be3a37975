"""The portal API as a resident's app sees it: seed 002's operations, boundaries, enums, the
paging arithmetic, isolation (no token, other unit, other property, LINKED vs UNIT), and the
staff DPSK export."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services as account_services
from apps.core.actors import SYSTEM
from apps.core.principal import Grant
from apps.events.models import Event
from apps.portal import selectors, services
from apps.portal.models import UnitUser
from tests.factories import directory as d
from tests.factories.accounts import key_client
from tests.locks.conftest import Phone
from tests.portal.conftest import add, unit_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def url(b, rest: str, prop=None) -> str:
    return f"/api/portal/v1/residents/properties/{(prop or b.prop).pk}/units/{rest}"


def person_client(unit_user, password="correct horse battery") -> APIClient:
    account_services.user_update(user=unit_user.user, actor=SYSTEM)  # no-op; the account exists
    unit_user.user.set_password(password)
    unit_user.user.save()
    _, secret = account_services.user_token_create(email=unit_user.user.email, password=password)
    return unit_client(secret)


def test_get_user_shows_the_seed_fields_and_unit_rights_see_the_passphrase(building):
    b = building
    data = d.ok(unit_client(b.token1).get(url(b, f"users/{b.lena.user_id}")))
    assert set(data) == {"userId", "userName", "email", "phoneNumber", "passphrase", "status", "type", "_links"}
    assert data["userName"] == "Lena Linked" and data["type"] == "LINKED" and data["status"] == "ACTIVE"
    assert data["passphrase"] == selectors.passphrase_of(b.lena)
    assert data["_links"]["self"]["href"].endswith(f"/units/users/{b.lena.user_id}")


def test_a_linked_person_sees_only_their_own_passphrase(building):
    b = building
    lena = person_client(b.lena)
    assert d.ok(lena.get(url(b, f"users/{b.lena.user_id}")))["passphrase"] == selectors.passphrase_of(b.lena)
    assert d.ok(lena.get(url(b, f"users/{b.ulla.user_id}")))["passphrase"] is None
    ulla = person_client(b.ulla)  # a UNIT person: UNIT rights
    assert d.ok(ulla.get(url(b, f"users/{b.lena.user_id}")))["passphrase"] == selectors.passphrase_of(b.lena)


def test_isolation_no_token_other_unit_other_property(building):
    b = building
    d.refused(APIClient().get(url(b, f"users/{b.ulla.user_id}")), 401)
    d.refused(unit_client("khr_000000000000_nope").get(url(b, f"users/{b.ulla.user_id}")), 401)
    d.refused(unit_client(b.token1).get(url(b, f"users/{b.uma.user_id}")), 404)  # unit 2's person
    d.refused(unit_client(b.token2).put(url(b, f"users/{b.ulla.user_id}"), {"userName": "x"}, format="json"), 404)
    other = d.property_create(display_name="Elsewhere")
    d.refused(unit_client(b.token1).get(url(b, f"users/{b.ulla.user_id}", prop=other)), 404)
    # a unit token is no staff credential
    d.refused(unit_client(b.token1).get(f"/api/v1/properties/{b.prop.pk}"), 403)
    # a person of no unit here
    stranger = d.user_create(email="stranger@example.test", password="pw-123456789")
    _, secret = account_services.user_token_create(email="stranger@example.test", password="pw-123456789")
    d.refused(unit_client(secret).get(url(b, f"users/{b.ulla.user_id}")), 404)
    assert stranger


def test_linked_person_cannot_change_others_or_block(building):
    b = building
    lena = person_client(b.lena)
    d.refused(lena.put(url(b, f"users/{b.ulla.user_id}"), {"userName": "Bad"}, format="json"), 403)
    d.refused(lena.put(url(b, f"users/{b.lena.user_id}"), {"status": "BLOCKED"}, format="json"), 403)
    d.refused(lena.get(url(b, f"users/{b.ulla.user_id}/devices")), 403)
    data = d.ok(lena.put(url(b, f"users/{b.lena.user_id}"), {"phoneNumber": "+447700900123"}, format="json"))
    assert data["dpskUpdateId"] is None
    assert UnitUser.objects.get(pk=b.lena.pk).phone_number == "+447700900123"


def test_update_returns_the_event_ids_and_leaves_out_fields_alone(building):
    b = building
    before = selectors.passphrase_of(b.lena)
    response = unit_client(b.token1).put(
        url(b, f"users/{b.lena.user_id}"),
        {"userId": str(b.lena.user_id), "passphrase": "", "type": "LINKED", "_links": {"self": {}}},
        format="json",
    )
    data = d.ok(response)
    assert set(data) == {"personaUpdateId", "dpskUpdateId"}
    assert Event.objects.get(pk=data["dpskUpdateId"]).event_name == "unit_user.passphrase_changed"
    assert Event.objects.get(pk=data["personaUpdateId"]).event_name == "unit_user.updated"
    after = UnitUser.objects.get(pk=b.lena.pk)
    assert selectors.passphrase_of(after) != before and after.user_name == "Lena Linked"
    assert after.email == "lena@example.test"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"userId": "2c4a230c-5085-4924-a3e1-25fb4fc5965b"}, "userId"),
        ({"type": "UNIT"}, "type"),
        ({"type": "OWNER"}, "type"),
        ({"status": "DELETED"}, "status"),
        ({"nickname": "x"}, "nickname"),
        ({"email": "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63}, "email"),  # 256
        ({"phoneNumber": "+1234567890123456"}, "phoneNumber"),  # 17
        ({"phoneNumber": "07700900123"}, "phoneNumber"),
        ({"passphrase": "x" * 7}, "passphrase"),
        ({"passphrase": "x" * 64}, "passphrase"),
    ],
)
def test_bad_updates_are_400_naming_the_field_and_change_nothing(building, body, field):
    b = building
    before = UnitUser.objects.get(pk=b.lena.pk)
    refused = d.refused(unit_client(b.token1).put(url(b, f"users/{b.lena.user_id}"), body, format="json"), 400)
    assert field in refused["data"]["fields"], refused
    after = UnitUser.objects.get(pk=b.lena.pk)
    assert (after.email, after.phone_number, after.passphrase_digest) == (
        before.email,
        before.phone_number,
        before.passphrase_digest,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 62},  # 255
        {"email": ""},
        {"phoneNumber": "+123456789012345"},  # 16
        {"phoneNumber": ""},
        {"passphrase": "x" * 8},
        {"passphrase": "y" * 63},
    ],
)
def test_boundary_updates_are_accepted(building, body):
    b = building
    d.ok(unit_client(b.token1).put(url(b, f"users/{b.lena.user_id}"), body, format="json"))
    after = UnitUser.objects.get(pk=b.lena.pk)
    ((name, value),) = body.items()
    if name == "passphrase":
        assert selectors.passphrase_of(after) == value
    else:
        assert getattr(after, {"phoneNumber": "phone_number"}.get(name, name)) == value


def test_block_through_the_api_and_the_last_unit_user_refused(building):
    b = building
    client = unit_client(b.token1)
    d.ok(client.put(url(b, f"users/{b.lena.user_id}"), {"status": "BLOCKED"}, format="json"))
    data = d.ok(client.get(url(b, f"users/{b.lena.user_id}")))
    assert data["status"] == "BLOCKED" and data["passphrase"] is None
    d.refused(client.put(url(b, f"users/{b.ulla.user_id}"), {"status": "BLOCKED"}, format="json"), 409)
    d.ok(client.put(url(b, f"users/{b.lena.user_id}"), {"status": "ACTIVE"}, format="json"))
    assert d.ok(client.get(url(b, f"users/{b.lena.user_id}")))["passphrase"]


def _more(b, n):
    for i in range(n):
        add(b.unit1, name=f"Extra{i} Person", user_type="LINKED")


@pytest.mark.parametrize(
    "total, page, size, items, pages, first, last",
    [
        (5, 0, 2, 2, 3, True, False),
        (5, 2, 2, 1, 3, False, True),
        (5, 3, 2, 0, 3, False, True),  # past the end: empty
        (5, 0, 20, 5, 1, True, True),
        (5, 0, 5, 5, 1, True, True),
    ],
)
def test_query_pages_agree_with_each_other(building, total, page, size, items, pages, first, last):
    b = building
    _more(b, total - 2)
    data = d.ok(unit_client(b.token1).post(url(b, "users/query"), {"page": page, "pageSize": size}, format="json"))
    assert (data["totalElements"], data["totalPages"], data["number"], data["size"]) == (total, pages, page, size)
    assert data["numberOfElements"] == len(data["content"]) == items
    assert (data["first"], data["last"], data["empty"]) == (first, last, items == 0)
    assert data["pageable"] == {
        "offset": page * size,
        "sort": data["sort"],
        "pageNumber": page,
        "pageSize": size,
        "paged": True,
        "unpaged": False,
    }


def test_query_sorts_by_user_id_accepts_the_bare_string_and_filters(building):
    b = building
    _more(b, 3)
    client = unit_client(b.token1)
    asc = d.ok(client.post(url(b, "users/query"), {"sortFields": "userId", "sortDirection": "ASC"}, format="json"))
    ids = [u["userId"] for u in asc["content"]]
    assert ids == sorted(ids) and asc["sort"] == {"empty": False, "sorted": True, "unsorted": False}
    desc = d.ok(client.post(url(b, "users/query"), {"sortFields": ["userId"], "sortDirection": "DESC"}, format="json"))
    assert [u["userId"] for u in desc["content"]] == ids[::-1]
    default = d.ok(client.post(url(b, "users/query"), {}, format="json"))
    assert default["size"] == 20 and default["sort"]["unsorted"] is True
    one = d.ok(client.post(url(b, "users/query"), {"userId": str(b.lena.user_id)}, format="json"))
    assert [u["userId"] for u in one["content"]] == [str(b.lena.user_id)]
    other_unit = d.ok(client.post(url(b, "users/query"), {"userId": str(b.uma.user_id)}, format="json"))
    assert other_unit["content"] == [] and other_unit["totalElements"] == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"pageSize": 101}, "pageSize"),
        ({"pageSize": 0}, "pageSize"),
        ({"page": -1}, "page"),
        ({"sortFields": "userName"}, "sortFields"),
        ({"sortDirection": "UP"}, "sortDirection"),
        ({"filter": 1}, "filter"),
    ],
)
def test_bad_queries_are_400_naming_the_field(building, body, field):
    refused = d.refused(unit_client(building.token1).post(url(building, "users/query"), body, format="json"), 400)
    assert field in refused["data"]["fields"], refused


def test_devices_list_and_delete_deprovisions(building):
    b = building
    phone = Phone.provision(b.lena.user)
    client = unit_client(b.token1)
    data = d.ok(client.get(url(b, f"users/{b.lena.user_id}/devices")))
    assert [dev["deviceId"] for dev in data["contents"]] == [str(phone.device.pk)]
    assert set(data["contents"][0]) == {"deviceId", "displayName", "deviceType", "makeModel", "lastSyncAt"}
    # another unit's token cannot touch it
    assert unit_client(b.token2).delete(url(b, f"users/{b.lena.user_id}/devices/{phone.device.pk}")).status_code == 404
    response = client.delete(url(b, f"users/{b.lena.user_id}/devices/{phone.device.pk}"))
    assert response.status_code == 204 and response.content == b""
    assert d.ok(client.get(url(b, f"users/{b.lena.user_id}/devices")))["contents"] == []
    assert client.delete(url(b, f"users/{b.lena.user_id}/devices/{phone.device.pk}")).status_code == 404


def test_invite_a_guest_emails_them_and_the_window_is_enforced(building, django_capture_on_commit_callbacks):
    b = building
    client = unit_client(b.token1)
    until = timezone.now() + timedelta(days=3)
    body = {"userName": "Gus Guest", "email": "gus@example.test", "validUntil": until.isoformat()}
    with django_capture_on_commit_callbacks(execute=True):
        data = d.ok(client.post(url(b, "guests"), body, format="json"))
    assert data["type"] == "GUEST" and data["status"] == "ACTIVE" and len(data["passphrase"]) == 16
    assert mail.outbox and mail.outbox[-1].to == ["gus@example.test"]
    refused = d.refused(
        client.post(url(b, "guests"), {**body, "email": "g2@example.test", "validUntil": None}, format="json"), 400
    )
    assert "validUntil" in refused["data"]["fields"]
    too_long = (timezone.now() + timedelta(days=31)).isoformat()
    refused = d.refused(
        client.post(url(b, "guests"), {**body, "email": "g3@example.test", "validUntil": too_long}, format="json"), 400
    )
    assert "validUntil" in refused["data"]["fields"]


def test_staff_dpsk_export_marks_blocked_and_expired_inactive(building):
    b = building
    services.unit_user_block(unit_user=b.lena, actor=SYSTEM)
    guest = services.guest_invite(
        area=b.unit1,
        user_name="Gus",
        email="gus@example.test",
        valid_until=timezone.now() + timedelta(hours=1),
        actor=SYSTEM,
    )
    UnitUser.objects.filter(pk=guest.pk).update(valid_until=timezone.now() - timedelta(minutes=1))  # time passed
    staff = key_client(Grant("manage-access", property_id=b.prop.pk))
    data = d.ok(staff.get(f"/api/v1/properties/{b.prop.pk}/dpsk"))
    by_name = {row["userName"]: row for row in data["passphrases"]}
    assert by_name["Ulla Unit"]["active"] is True and by_name["Ulla Unit"]["passphrase"] == selectors.passphrase_of(
        b.ulla
    )
    assert by_name["Lena Linked"]["active"] is False and by_name["Lena Linked"]["passphrase"] is None
    assert by_name["Gus"]["active"] is False
    other = key_client(Grant("manage-access", property_id=d.property_create().pk))
    d.refused(other.get(f"/api/v1/properties/{b.prop.pk}/dpsk"), 404)
    d.refused(unit_client(b.token1).get(f"/api/v1/properties/{b.prop.pk}/dpsk"), 403)
