"""Lockt credentials and fobs as read-only records on their holders, and fob reassignment
pushed with PUT /fob: the real client and poll against the Lockt emulator over a live server."""

import html
import logging
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import PermissionGrant, User
from apps.core.exceptions import ApplicationError
from apps.core.principal import Grant
from apps.events.models import Event
from apps.integrations import services
from apps.integrations.lockt.credentials import lockt_fob_reassign
from apps.integrations.lockt.emulator import models as m
from apps.integrations.models import LocktCredential, LocktRecord
from tests.factories.accounts import key_client
from tests.factories.directory import ok, property_create, refused, user_create
from tests.factories.integrations import lockt_account
from tests.integrations import test_lockt_sync
from tests.integrations.test_lockt_sync import _linked, _writes

pytestmark = pytest.mark.django_db(transaction=True)

lockt = test_lockt_sync.lockt  # the example instance, as the sync tests use it

SEED_CARDS = ("8769", "10050", "1003", "1234", "10000", "11000", "5102")


@pytest.fixture
def account(lockt):
    account = lockt_account(property_create(), base_url=lockt.url)
    run = services.integration_account_poll(account_id=account.pk)
    assert run.status == "succeeded", run.error
    return account


def _credential(account, external_id) -> LocktCredential:
    return LocktCredential.objects.select_related("record", "holder").get(
        record__account=account, record__external_id=str(external_id)
    )


def test_credentials_and_fobs_land_on_their_holders_with_cards_masked(account):
    susan = _linked(account, User, 1693)
    held = {c.record.external_id: c for c in susan.lockt_credentials.select_related("record")}
    assert set(held) == {"613832", "614010"}
    card = held["613832"]
    assert (card.record.kind, card.fob, card.claim_status) == ("credential", False, "claimed")
    assert (card.card_last4, card.card_masked, card.name) == ("8769", "\u2022\u2022\u2022\u20228769", "••••8769")
    fob = held["614010"]
    assert (fob.record.kind, fob.fob, fob.name, fob.card_last4) == ("fob", True, "Fob 1A", "0050")
    unheld = _credential(account, 443)
    assert unheld.fob and unheld.holder is None and unheld.holder_external_id is None
    assert unheld.valid_from.isoformat() == "2022-07-10T09:00:00+00:00"
    assert unheld.valid_until.isoformat() == "2022-07-10T12:00:00+00:00"
    assert _credential(account, 129813).holder == _linked(account, User, 244)


def test_card_numbers_reach_no_log_and_no_event(lockt, caplog):
    caplog.set_level(logging.DEBUG)
    account = lockt_account(property_create(), base_url=lockt.url)
    services.integration_account_poll(account_id=account.pk)
    events = " ".join(str(p) for p in Event.objects.filter(event_name__startswith="lockt_").values_list("payload"))
    stored = list(LocktCredential.objects.values_list("name", "card_last4"))
    for card in ("10050", "11000", "10000"):  # the long ones: no id or count looks like them
        whole = re.compile(rf"(?<![\d.]){card}(?!\d)")  # a number, not digits inside a timing
        assert not whole.search(caplog.text) and not whole.search(events) and not whole.search(str(stored))
    (created,) = Event.objects.filter(event_name="lockt_credential.batch_created")  # one for the first poll's 7
    assert len(created.payload["credentials"]) == 7


def test_second_poll_without_remote_change_writes_no_credential(account):
    with CaptureQueriesContext(connection) as queries:
        run = services.integration_account_poll(account_id=account.pk)
    assert run.status == "succeeded", run.error
    tables = set(_writes(queries.captured_queries))
    assert not tables & {"integrations_locktcredential", "integrations_locktrecord"}, tables
    assert run.unchanged >= 7


def test_a_credential_deleted_in_lockt_is_removed_here(lockt, account):
    assert lockt.delete("credential", {"credentials": [{"id": 335}]}).status_code == 200
    services.integration_account_poll(account_id=account.pk)
    assert not LocktCredential.objects.filter(record__external_id="335").exists()
    assert not LocktRecord.objects.filter(account=account, kind="credential", external_id="335").exists()
    assert Event.objects.filter(event_name="lockt_credential.removed", payload__externalId="335").exists()


def test_a_non_numeric_card_fails_its_record_alone_and_hides_the_value(lockt, account):
    # a credential Lockt holds with a card the mapping refuses: made through the emulator's store
    m.Credential.objects.filter(rid=335).update(card_num="A8914")
    run = services.integration_account_poll(account_id=account.pk)
    assert run.status == "succeeded", run.error
    record = LocktRecord.objects.get(account=account, kind="credential", external_id="335")
    assert (record.status, record.error_field) == ("failed", "card_num")
    assert "A8914" not in record.error_value and "hidden" in record.error_value
    assert _credential(account, 613832).card_last4 == "8769"  # the others went on


def test_fob_reassigned_in_keyhouse_is_pushed_with_put_fob(lockt, account):
    susan = _linked(account, User, 1693)
    lockt_fob_reassign(credential=_credential(account, 443), holder=susan, actor="manager")
    # the requested poll ran (tasks run eagerly here) and pushed PUT /fob
    assert lockt.data("credential?id=443")[0]["user"] == [{"id": 1693, "name": "Brown3, Susan3"}]
    fob = _credential(account, 443)
    assert fob.holder == susan and not fob.reassign_pending
    assert Event.objects.filter(event_name="lockt_fob.pushed", payload__externalId="443").exists()
    lockt_fob_reassign(credential=fob, holder=None, actor="manager")
    assert lockt.data("credential?id=443")[0]["user"] == []
    assert _credential(account, 443).holder is None


def test_fob_goes_only_to_a_lockt_user_of_its_account(account):
    stranger = user_create(display_name="Nora Stranger")
    with pytest.raises(ApplicationError, match="Nora Stranger is not a Lockt user of Lockt cloud"):
        lockt_fob_reassign(credential=_credential(account, 443), holder=stranger, actor="manager")
    with pytest.raises(ApplicationError, match="Only a fob"):
        lockt_fob_reassign(credential=_credential(account, 335), holder=None, actor="manager")
    assert not _credential(account, 443).reassign_pending


def _manager(client, prop):
    manager = user_create(display_name=f"Manager of {prop.display_name}")
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=prop.pk)
    client.force_login(manager)
    return client


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_person_page_and_records_admin_show_credentials_masked_and_scoped(account, client):
    susan = _linked(account, User, 1693)
    own = _manager(client, account.property)
    page = _page(own.get(f"/admin/accounts/user/{susan.pk}/person/"))
    assert "Lockt credentials and fobs" in page
    assert "Lockt cloud Credential ••••8769 ••••8769 Claimed" in page
    assert "Lockt cloud Fob Fob 1A ••••0050" in page and "10050" not in page
    listing = _page(own.get("/admin/integrations/locktcredential/"))
    assert "Office Floor 1 FOB 1" in listing and "Susan3 Brown3" in listing and "11000" not in listing
    records = _page(own.get("/admin/integrations/locktrecord/?kind=fob"))
    assert "Lockt fob Fob 1A (Susan3 Brown3)" in records
    other = _manager(Client(), property_create(display_name="Elsewhere"))
    assert other.get(f"/admin/accounts/user/{susan.pk}/person/").status_code == 404
    assert "Office Floor 1 FOB 1" not in _page(other.get("/admin/integrations/locktcredential/"))


RECORDS = "/api/v1/integrations/accounts/{}/records"


def test_api_lists_an_accounts_records_paged_filtered_and_scoped(account, lockt):
    m.Credential.objects.filter(rid=335).update(card_num="A8914")  # one failure to filter on
    services.integration_account_poll(account_id=account.pk)
    url = RECORDS.format(account.pk)
    client = key_client(Grant("manage-access", property_id=account.property_id))
    fobs = ok(client.get(url, {"kind": "fob"}))
    assert fobs["pageToken"] is None
    by_id = {r["externalId"]: r for r in fobs["records"]}
    assert set(by_id) == {"614010", "443", "232"}
    held = by_id["614010"]
    susan = _linked(account, User, 1693)
    assert (held["kind"], held["status"], held["owner"], held["label"]) == ("fob", "synced", "lockt", "Fob 1A")
    assert held["credential"]["holderId"] == str(susan.pk) and held["credential"]["cardLast4"] == "0050"
    assert held["credential"]["fob"] is True and held["credential"]["reassignPending"] is False
    assert by_id["443"]["credential"]["holderId"] is None
    assert by_id["443"]["credential"]["validFrom"].startswith("2022-07-10T09:00:00")
    people = ok(client.get(url, {"kind": "user"}))["records"]
    susan_record = next(r for r in people if r["externalId"] == "1693")
    assert susan_record["objectId"] == str(susan.pk) and susan_record["owner"] == "lockt"
    assert susan_record["credential"] is None
    failed = ok(client.get(url, {"status": "failed"}))["records"]
    assert [(r["externalId"], r["errorField"]) for r in failed] == [("335", "card_num")]
    assert "A8914" not in str(failed) and failed[0]["objectId"] is None
    everything = ok(client.get(url, {"pageSize": 5}))
    assert len(everything["records"]) == 5 and everything["pageToken"]
    seen = [r["recordId"] for r in everything["records"]]
    rest = ok(client.get(url, {"pageSize": 500, "pageToken": everything["pageToken"]}))["records"]
    assert not set(seen) & {r["recordId"] for r in rest}
    whole = client.get(url, {"pageSize": 500}).content.decode()
    for card in ("10050", "11000", "10000"):  # (4-digit cards are their own last 4)
        assert f'"{card}"' not in whole  # no card number as a value anywhere
    assert "kind" in refused(client.get(url, {"kind": "door"}), 400)["data"]["fields"]
    stranger = key_client(Grant("owner", property_id=property_create().pk))
    refused(stranger.get(url), 404)


def test_api_moves_a_fob_and_the_poll_pushes_it(account, lockt):
    fob = _credential(account, 232)
    url = f"{RECORDS.format(account.pk)}/{fob.record.pk}/reassign"
    susan = _linked(account, User, 1693)
    client = key_client(Grant("manage-access", property_id=account.property_id))
    stranger = user_create(display_name="Nora Stranger")
    body = refused(client.post(url, {"holderId": str(stranger.pk)}, format="json"), 400)
    assert "holderId" in body["data"]["fields"] and "Nora" not in str(body)
    card = _credential(account, 335)
    refused(
        client.post(f"{RECORDS.format(account.pk)}/{card.record.pk}/reassign", {"holderId": None}, format="json"), 404
    )
    response = client.post(url, {"holderId": str(susan.pk)}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["data"]["credential"]["holderId"] == str(susan.pk)
    assert lockt.data("credential?id=232")[0]["user"] == [{"id": 1693, "name": "Brown3, Susan3"}]
    assert not _credential(account, 232).reassign_pending  # the requested poll pushed it
    support = key_client(Grant("support", property_id=account.property_id))
    refused(support.post(url, {"holderId": None}, format="json"), 403)
    other = key_client(Grant("owner", property_id=property_create().pk))
    refused(other.post(url, {"holderId": None}, format="json"), 404)


def test_admin_moves_a_fob_among_the_accounts_lockt_people(account, lockt, client):
    fob = _credential(account, 232)
    susan = _linked(account, User, 1693)
    manager = _manager(client, account.property)
    changelist = "/admin/integrations/locktcredential/"
    picker = _page(manager.post(changelist, {"action": "move_fob", "_selected_action": [str(fob.pk)]}))
    assert "Move Office Floor 2 FOB 1" in picker and "Susan3 Brown3" in picker and "— nobody —" in picker
    done = manager.post(
        changelist,
        {"action": "move_fob", "_selected_action": [str(fob.pk)], "apply": "1", "holder": str(susan.pk)},
        follow=True,
    )
    assert "Office Floor 2 FOB 1 now goes to Susan3 Brown3" in _page(done)
    assert lockt.data("credential?id=232")[0]["user"] == [{"id": 1693, "name": "Brown3, Susan3"}]
    two = [str(fob.pk), str(_credential(account, 443).pk)]
    refused = manager.post(changelist, {"action": "move_fob", "_selected_action": two}, follow=True)
    assert "Select exactly one fob to move." in _page(refused)


def test_empty_credential_and_fob_lists_remove_nothing(lockt, account):
    m.Credential.objects.all().delete()  # Lockt answers [] for both: a glitch, not a purge
    run = services.integration_account_poll(account_id=account.pk)
    assert run.status == "succeeded", run.error
    assert LocktCredential.objects.filter(record__account=account).count() == 7
