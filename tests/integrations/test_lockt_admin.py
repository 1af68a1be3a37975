"""Admin for Lockt: "Test connection" in plain words, failed records with their reasons, which
objects are Lockt-owned — against the Lockt emulator over a live server."""

import html
import re

import pytest

from apps.integrations import services
from apps.integrations.lockt.sync import LocktSync
from apps.integrations.models import LocktRecord
from tests.factories.directory import property_create
from tests.factories.integrations import lockt_account
from tests.integrations.lockt_emulator.conftest import Lockt

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNTS = "/admin/integrations/integrationaccount/"
RECORDS = "/admin/integrations/locktrecord/"


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def emulator_url(client, live_server, settings):
    settings.KEYHOUSE_INTEGRATION_ALLOW_HTTP = True
    settings.KEYHOUSE_INTEGRATION_HTTP_RETRIES = 0
    Lockt(client).control("POST", "reset")
    return f"{live_server.url}/_emulators/lockt/api/v1"


def _test_connection(staff_client, account) -> str:
    response = staff_client.post(
        ACCOUNTS, {"action": "test_connection", "_selected_action": [str(account.pk)]}, follow=True
    )
    return _text(response)


def test_test_connection_says_in_plain_words_whether_it_works(staff_client, emulator_url, client):
    good = lockt_account(property_create(), base_url=emulator_url, display_name="Harbour Lockt")
    assert "Harbour Lockt: connected; the credentials work (Lockt 1.1.0)." in _test_connection(staff_client, good)
    wrong = lockt_account(
        property_create(),
        base_url=emulator_url,
        display_name="Wrong key",
        credentials={"apiuser": "9r8ehveyb5h8mnwwet4yf9ugjynz8pkn", "apikey": "not-the-key"},
    )
    page = _test_connection(staff_client, wrong)
    assert "Wrong key: the remote refused the credentials" in page and "not-the-key" not in page
    nowhere = lockt_account(property_create(), base_url="http://127.0.0.1:9/api/v1", display_name="Nowhere")
    assert "Nowhere: the remote could not be reached" in _test_connection(staff_client, nowhere)
    wrong.refresh_from_db()
    assert wrong.status == "ok"  # a test changes nothing; the next poll sets the status


def test_failed_records_and_lockt_owned_objects_are_listed_by_name(staff_client, emulator_url):
    account = lockt_account(property_create(), base_url=emulator_url, display_name="Harbour Lockt")
    services.integration_account_poll(account_id=account.pk)
    other = lockt_account(account.property, base_url=emulator_url, display_name="Other Lockt")
    LocktSync(other).run(
        schedules=[],
        doors=[],
        levels=[],
        users=[{"id": 77, "first_name": "Bad", "last_name": "Mail", "email": "nope"}],
        events=[],
    )
    page = _text(staff_client.get(f"{RECORDS}?status__exact=failed"))
    assert "Bad Mail (Lockt id 77)" in page and "not an email address" in page and "'nope'" in page
    assert "— (not linked)" in page
    page = _text(staff_client.get(f"{RECORDS}?kind__exact=lock"))
    assert "Room 1 (Lockt id 187)" in page and "Lockt" in page
    assert LocktRecord.objects.filter(account=account, status="failed").count() >= 1
