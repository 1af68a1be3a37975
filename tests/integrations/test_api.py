"""/api/v1/integrations/accounts: property-scoped, credentials write-only, Poll now answers 202."""

import json

import pytest

from apps.core.principal import Grant
from apps.integrations.models import IntegrationAccount, SyncRun
from tests.factories.accounts import key_client
from tests.factories.directory import ok, property_create, refused
from tests.factories.integrations import APIKEY, APIUSER, lockt_account
from tests.integrations.loopback import Answer

pytestmark = pytest.mark.django_db

URL = "/api/v1/integrations/accounts"
CREDENTIALS = {"apiuser": APIUSER, "apikey": APIKEY}


def _body(prop, **overrides):
    return {
        "propertyId": str(prop.pk),
        "kind": "lockt",
        "displayName": "Lockt cloud",
        "baseUrl": "https://cloudapi.lockt.com/api/v1",
        "credentials": CREDENTIALS,
        **overrides,
    }


def _no_secret(response):
    text = response.content.decode()
    assert APIKEY not in text and APIUSER not in text
    return response


def test_an_owner_links_an_account_and_never_sees_its_credentials_again():
    prop = property_create()
    client = key_client(Grant("owner", property_id=prop.pk))
    data = ok(_no_secret(client.post(URL, _body(prop, pollIntervalSeconds=600), format="json")))
    assert data["propertyId"] == str(prop.pk) and data["kind"] == "lockt" and data["displayName"] == "Lockt cloud"
    assert data["status"] == "ok" and data["enabled"] is True and data["pollIntervalSeconds"] == 600
    assert data["credentialFields"] == ["apiuser", "apikey"] and "credentials" not in data
    assert data["lastRun"] is None and data["nextAttemptAt"] and data["type"] == "integrationAccount"
    account_id = data["accountId"]
    listed = ok(_no_secret(client.get(URL)))
    assert [a["accountId"] for a in listed["accounts"]] == [account_id]
    assert ok(_no_secret(client.get(f"{URL}/{account_id}")))["displayName"] == "Lockt cloud"
    changed = ok(
        _no_secret(
            client.patch(
                f"{URL}/{account_id}",
                {"displayName": "Main cloud", "enabled": False, "credentials": {"apiuser": "u2", "apikey": "k2"}},
                format="json",
            )
        )
    )
    assert changed["displayName"] == "Main cloud" and changed["status"] == "disabled" and changed["enabled"] is False
    assert data["timeZone"] == "UTC"
    zoned = ok(client.patch(f"{URL}/{account_id}", {"timeZone": "Europe/Paris"}, format="json"))
    assert zoned["timeZone"] == "Europe/Paris"
    assert "k2" not in json.dumps(changed)
    ok(client.delete(f"{URL}/{account_id}"))
    assert not IntegrationAccount.objects.exists()
    refused(client.get(f"{URL}/{account_id}"), 404)


def test_another_propertys_account_does_not_exist_for_you():
    mine, theirs = property_create(), property_create()
    account = lockt_account(theirs, base_url="https://cloudapi.lockt.com/api/v1")
    client = key_client(Grant("owner", property_id=mine.pk))
    assert ok(client.get(URL))["accounts"] == []
    for call in (
        client.get(f"{URL}/{account.pk}"),
        client.patch(f"{URL}/{account.pk}", {"displayName": "mine now"}, format="json"),
        client.delete(f"{URL}/{account.pk}"),
        client.post(f"{URL}/{account.pk}/poll"),
        client.get(f"{URL}/{account.pk}/runs"),
    ):
        refused(call, 404)
    body = refused(client.post(URL, _body(theirs), format="json"), 400)
    assert "propertyId" in body["data"]["fields"]
    account.refresh_from_db()
    assert account.display_name == "Lockt cloud" and account.status == "ok"


def test_readers_read_and_poll_but_only_owners_change_accounts():
    prop = property_create()
    account = lockt_account(prop, base_url="https://cloudapi.lockt.com/api/v1")
    manager = key_client(Grant("manage-access", property_id=prop.pk))
    assert ok(manager.get(f"{URL}/{account.pk}"))["accountId"] == str(account.pk)
    refused(manager.post(URL, _body(prop, displayName="other"), format="json"), 403)
    refused(manager.patch(f"{URL}/{account.pk}", {"enabled": False}, format="json"), 403)
    refused(manager.delete(f"{URL}/{account.pk}"), 403)
    refused(key_client(Grant("install-lock", property_id=prop.pk)).get(URL), 403)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"credentials": {"apiuser": APIUSER}}, "credentials.apikey"),
        ({"credentials": {**CREDENTIALS, "password": "x"}}, "credentials.password"),
        ({"credentials": {"apiuser": APIUSER, "apikey": "  "}}, "credentials.apikey"),
        ({"baseUrl": "http://cloudapi.lockt.com/api/v1"}, "baseUrl"),
        ({"kind": "acme"}, "kind"),
        ({"pollIntervalSeconds": 5}, "pollIntervalSeconds"),
        ({"displayName": ""}, "displayName"),
        ({"timeZone": "Mars/Olympus"}, "timeZone"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(settings, overrides, field):
    settings.KEYHOUSE_INTEGRATION_ALLOW_HTTP = False
    prop = property_create()
    client = key_client(Grant("owner", property_id=prop.pk))
    body = refused(_no_secret(client.post(URL, _body(prop, **overrides), format="json")), 400)
    assert field in body["data"]["fields"], body
    assert not IntegrationAccount.objects.exists()


def test_two_accounts_of_one_property_need_two_names():
    prop = property_create()
    client = key_client(Grant("owner", property_id=prop.pk))
    ok(client.post(URL, _body(prop), format="json"))
    # a valid name another account of the kind holds: a conflict with what exists (409)
    body = refused(client.post(URL, _body(prop), format="json"), 409)
    assert "displayName" in body["data"]["fields"]


def test_poll_now_answers_202_and_the_run_shows_in_the_account_and_its_runs(remote, django_capture_on_commit_callbacks):
    remote.answer("/api/v1/ping", Answer(200, {}))
    for path in (
        "schedule",
        "door",
        "doorstate",
        "accesslevel",
        "delegate",
        "user",
        "events",
        "credential",
        "fob",
    ):  # an empty Lockt account
        remote.answer(f"/api/v1/{path}", Answer(200, {"data": []}))
    prop = property_create()
    account = lockt_account(prop, base_url=f"{remote.url}/api/v1")
    client = key_client(Grant("support", property_id=prop.pk))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}/{account.pk}/poll")
    assert response.status_code == 202 and response.json()["success"] is True
    run = SyncRun.objects.get(account=account)
    assert run.trigger.startswith("apiKey:")  # who pressed it, not the schedule
    data = ok(client.get(f"{URL}/{account.pk}"))
    assert data["lastRun"]["syncRunId"] == str(run.pk) and data["lastRun"]["status"] == "succeeded"
    runs = ok(client.get(f"{URL}/{account.pk}/runs"))["syncRuns"]
    assert [r["syncRunId"] for r in runs] == [str(run.pk)]
    assert set(runs[0]) >= {"fetched", "created", "updated", "unchanged", "failed", "startedAt", "finishedAt", "error"}


def test_the_account_list_reads_a_fixed_number_of_queries(django_assert_max_num_queries):
    from django.utils import timezone

    prop = property_create()
    client = key_client(Grant("owner", property_id=prop.pk))
    for n in range(5):
        account = lockt_account(prop, base_url="https://cloudapi.lockt.com/api/v1", display_name=f"cloud {n}")
        SyncRun.objects.create(account=account, started_at=timezone.now(), trigger="schedule")
    with django_assert_max_num_queries(8):
        data = ok(client.get(URL))
    assert len(data["accounts"]) == 5 and all(a["lastRun"] for a in data["accounts"])
