"""The Lockt client against the Lockt emulator over a live server (/_emulators/lockt/api/v1/).

Skipped only while the emulator package (apps/integrations/lockt/emulator/, built in parallel)
is absent; once merged these run on every test pass. They assume the emulator's §9.13 seed
under the spec's example credentials, and check what any faithful seed satisfies.
"""

import importlib.util

import pytest

from apps.integrations.http import AuthFailed, HttpClient
from apps.integrations.lockt import mapping
from apps.integrations.lockt.client import LocktClient
from apps.integrations.mapping import MappingError
from tests.factories.integrations import APIKEY, APIUSER

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("apps.integrations.lockt.emulator") is None,
        reason="the Lockt emulator package is not in this tree yet",
    ),
    pytest.mark.django_db(transaction=True),
]

EMULATOR = "/_emulators/lockt/api/v1"


@pytest.fixture
def lockt(live_server):
    http = HttpClient(
        f"{live_server.url}{EMULATOR}",
        secret_headers={"apiuser": APIUSER, "apikey": APIKEY},
        headers={"Content-Type": "application/json"},
        retries=0,
    )
    return LocktClient(http)


def test_ping_and_about_answer_for_the_example_credentials(lockt):
    lockt.ping()
    assert lockt.about()["version"] == "1.1.0"


def test_wrong_credentials_are_auth_failed(live_server):
    http = HttpClient(f"{live_server.url}{EMULATOR}", secret_headers={"apiuser": APIUSER, "apikey": "wrong"})
    with pytest.raises(AuthFailed):
        LocktClient(http).ping()


def test_seeded_records_map_or_are_refused_by_name(lockt):
    for schedule in lockt.schedules():
        try:
            mapping.schedule_from_lockt(schedule)
        except MappingError as exc:
            assert exc.field and exc.reason
    assert all(mapping.group_from_lockt(level).display_name for level in lockt.access_levels())
    assert all(mapping.lock_from_lockt(door).display_name for door in lockt.doors())
    users = lockt.users()
    assert users, "the seed has users"
    for record in users:
        user = mapping.user_from_lockt(lockt.user(record["id"]))
        assert user.external_id == record["id"]


def test_events_are_ascending_and_above_the_mark(lockt):
    events = lockt.events()
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)
    if ids:
        assert [e["id"] for e in lockt.events(after=ids[0])] == ids[1:]


def test_a_user_written_is_read_back_by_id_num(lockt):
    summary = lockt.users_upsert(
        [
            {
                "id": -1,
                "id_num": "kh-test-1",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada.kh-test-1@example.test",
                "phone": "5550100",
                "pin": "4821",
                "enabled": "true",
                "accesslevels": [],
            }
        ]
    )
    assert summary.inserted == 1
    user = mapping.user_from_lockt(lockt.user_by_id_num("kh-test-1"))
    assert (user.display_name, user.email) == ("Ada Lovelace", "ada.kh-test-1@example.test")
    assert lockt.users_delete([user.external_id]).deleted == 1
