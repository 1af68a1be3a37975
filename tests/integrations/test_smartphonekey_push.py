"""Native grants pushed to SmartphoneKey end to end: grant -> push -> emulator -> revoke ->
emulator shows validUntil = now; per grant × target state; failures; the command twin."""

import datetime as dt
import re

import pytest
import requests
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.access import services as access_services
from apps.access.models import AccessGrant
from apps.accounts.models import User
from apps.core.actors import SYSTEM
from apps.core.models import ExternalRef
from apps.integrations import services
from apps.integrations.mapping import LossyMappingError
from apps.integrations.models import SmartphoneKeyPush
from apps.integrations.smartphonekey import push
from apps.locks.models import Lock
from tests.factories import access as a
from tests.factories import directory as d
from tests.factories.access import process_events
from tests.factories.integrations import smartphonekey_account

pytestmark = pytest.mark.django_db(transaction=True)

SPK_USER, SPK_LOCK = "spk-user-1", "spk-lock-9"


def _link(obj, model, account, external_id):
    ExternalRef.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_id=obj.pk,
        source="smartphonekey",
        account_id=account.pk,
        external_id=external_id,
        sync_direction="fromInternalToExternal",
    )


@pytest.fixture
def world(smartphonekey_url):
    prop = d.property_create(display_name="Tower")
    door = a.lock_in(d.area_create(prop, display_name="Lobby", area_type="common"), "Lobby door")
    alice = d.user_create(display_name="Alice")
    account = smartphonekey_account(prop, base_url=smartphonekey_url)
    _link(alice, User, account, SPK_USER)
    _link(door, Lock, account, SPK_LOCK)
    return {"prop": prop, "door": door, "alice": alice, "account": account, "url": smartphonekey_url}


def _remote_locks(world) -> list:
    return requests.get(f"{world['url']}/_control/users/{SPK_USER}/locks", timeout=5).json()["locks"]


def _deliver(world) -> None:
    """What the workers do after commit: process the events (the grant handlers mark pushes
    pending and ask for the account's run), then that run."""
    process_events()
    services.integration_account_poll(account_id=world["account"].pk, trigger="test worker")


def _grant(world, **kw):
    grant = access_services.grant_create(
        prop=world["prop"], user=world["alice"], lock=world["door"], access_level="USER", actor=SYSTEM, **kw
    )
    _deliver(world)
    return grant


def test_grant_is_pushed_after_commit_and_revoke_sends_valid_until_now(world):
    until = timezone.now() + dt.timedelta(days=30)
    grant = _grant(world, valid_until=until)
    state = SmartphoneKeyPush.objects.get(grant=grant, account=world["account"])
    assert state.state == "pushed" and state.remote_version == 1
    (stored,) = _remote_locks(world)
    assert stored["lockId"] == SPK_LOCK and stored["accessLevel"] == "USER" and stored["lockName"] == "Lobby door"
    assert stored["validFrom"] is None and stored["validUntil"].startswith(until.strftime("%Y-%m-%dT%H:%M"))
    before = timezone.now()
    access_services.grant_revoke(grant=grant, actor=SYSTEM)
    _deliver(world)
    (stored,) = _remote_locks(world)
    sent = dt.datetime.fromisoformat(stored["validUntil"])
    assert before - dt.timedelta(seconds=1) <= sent <= timezone.now()
    state.refresh_from_db()
    assert state.state == "pushed" and state.remote_version == 2


def test_expiry_is_pushed_as_valid_until_now(world):
    grant = _grant(world, valid_until=timezone.now() + dt.timedelta(hours=1))
    AccessGrant.objects.filter(pk=grant.pk).update(valid_until=timezone.now() - dt.timedelta(seconds=1))
    assert access_services.grants_expire() == 1
    _deliver(world)
    (stored,) = _remote_locks(world)
    assert dt.datetime.fromisoformat(stored["validUntil"]) > timezone.now() - dt.timedelta(seconds=10)
    assert SmartphoneKeyPush.objects.get(grant=grant).remote_version == 2


def test_a_grant_without_links_is_not_a_target(world):
    bob = d.user_create(display_name="Bob")
    grant = access_services.grant_create(
        prop=world["prop"], user=bob, lock=world["door"], access_level="USER", actor=SYSTEM
    )
    _deliver(world)
    assert not SmartphoneKeyPush.objects.filter(grant=grant).exists()
    assert _remote_locks(world) == []


def test_a_500_stays_pending_a_401_needs_reauth_and_integration_push_sends_it(world, settings):
    settings.KEYHOUSE_INTEGRATION_HTTP_RETRIES = 0
    requests.post(f"{world['url']}/_control/fail", json={"mode": "500", "times": 10}, timeout=5)
    grant = _grant(world)
    state = SmartphoneKeyPush.objects.get(grant=grant)
    world["account"].refresh_from_db()
    assert state.state == "pending" and world["account"].status == "backing_off"
    requests.post(f"{world['url']}/_control/reset", timeout=5)
    from apps.integrations.smartphonekey.emulator import state as emu

    emu.state().api_key = "rotated"  # the account's key no longer opens
    with pytest.raises(CommandError):
        call_command("integration_poll", "smartphonekey", "--account", str(world["account"].pk))
    world["account"].refresh_from_db()
    assert world["account"].status == "needs_reauth"
    emu.reset()
    call_command("integration_push", "smartphonekey")
    state.refresh_from_db()
    assert state.state == "pushed" and _remote_locks(world)[0]["accessLevel"] == "USER"


def test_a_remote_refusal_is_failed_with_its_reason(world):
    ExternalRef.objects.filter(external_id=SPK_LOCK).update(external_id="")  # the remote refuses an empty lockId
    grant = _grant(world)
    state = SmartphoneKeyPush.objects.get(grant=grant)
    assert state.state == "failed" and state.reason.endswith("lockId: required")


def test_weekly_windows_are_refused_naming_what_would_be_lost():
    from apps.access.schedules import Schedule, windows_from_json

    windows = windows_from_json([{"days": ["mon", "tue"], "start": "08:00", "stop": "18:00"}])
    grant = AccessGrant(access_level="USER", granted_by="x", lock=Lock(display_name="Door"))
    grant.windows = windows
    with pytest.raises(LossyMappingError, match="weekly windows would be lost: windows\\[0\\]"):
        push.grant_body(grant, lock_external_id="L", now=timezone.now())
    assert Schedule  # imported for the windows type


def test_push_states_are_in_the_api_for_readers_of_the_account(world):
    from apps.core.principal import Grant
    from tests.factories.accounts import key_client

    grant = _grant(world)
    manager = key_client(Grant("manage-access", property_id=world["prop"].pk))
    body = manager.get(f"/api/v1/integrations/accounts/{world['account'].pk}/pushes").json()
    (row,) = body["data"]["pushes"]
    assert (row["grantId"], row["state"], row["remoteVersion"]) == (str(grant.pk), "pushed", 1.0)
    assert row["userId"] == str(world["alice"].pk) and row["lockId"] == str(world["door"].pk)
    other = key_client(Grant("owner", property_id=d.property_create().pk))
    assert other.get(f"/api/v1/integrations/accounts/{world['account'].pk}/pushes").status_code == 404


def test_a_push_run_with_nothing_to_push_writes_only_the_poll_time(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.events.models import Event
    from apps.integrations.models import SyncRun

    _grant(world)  # pushed: nothing pending any more
    account = world["account"]
    services.integration_account_poll(account_id=account.pk)  # the schedule's run after it: settles
    runs, events = SyncRun.objects.count(), Event.objects.count()
    with CaptureQueriesContext(connection) as queries:
        run = services.integration_account_poll(account_id=account.pk)
    write = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
    writes = [m.group(2) for q in queries.captured_queries if (m := write.match(q["sql"]))]
    assert run.status == "succeeded" and run.fetched == 0
    assert writes == ["integrations_integrationaccount"]  # the poll time; no run, no event
    assert SyncRun.objects.count() == runs and Event.objects.count() == events
