"""ParqEx polls end to end: the real client and poll against the emulator over loopback."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.models import ExternalRef
from apps.events.models import Event
from apps.integrations import services
from apps.integrations.models import ParqExDoor, SyncRun
from apps.locks.models import Lock
from tests.factories.access import process_events
from tests.factories.directory import property_create
from tests.factories.integrations import parqex_account
from tests.integrations.parqex_support import control

pytestmark = pytest.mark.django_db(transaction=True)

KITTY = "70fc7ebd63d841d9a9f06ff815be1e7c"
LAST = "a42308f43dbfaa8b1960a20ac4317b05"
WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


def _poll(account):
    run = services.integration_account_poll(account_id=account.pk)
    account.refresh_from_db()
    return run


def _writes(queries) -> list[str]:
    return [m.group(2) for q in queries if (m := WRITE.match(q["sql"]))]


def test_first_poll_brings_each_door_in_as_a_lock_of_the_property_in_no_area(parqex_url):
    prop = property_create()
    account = parqex_account(prop, base_url=parqex_url)
    run = _poll(account)
    assert (run.status, run.fetched, run.created, run.failed) == ("succeeded", 2, 2, 0)
    assert account.status == "ok" and account.last_success_at
    kitty = Lock.objects.get(parqex_door__door_id=KITTY)
    assert kitty.display_name == "Kitty" and kitty.property == prop and kitty.area is None
    link = ExternalRef.objects.get(object_id=kitty.pk)
    assert (link.source, link.external_id, link.account_id, link.sync_status) == ("parqex", KITTY, account.pk, "synced")
    door = kitty.parqex_door
    assert (door.controller_id, door.blackbox_code, door.software_version) == (
        "9d9e5e0e093a06d5f16e1116d108d0c7",
        "20000c2a6908848d",
        "0",
    )
    assert door.battery_level is None and door.door_state == "open" and door.user_relationship == "Has Access"
    last = ParqExDoor.objects.get(door_id=LAST)
    assert last.battery_level == 98 and last.auto_close_enabled and last.auto_close_delay_seconds == 3600
    assert last.last_toggled.isoformat() == "2020-08-21T02:33:37+00:00"  # zoneless = UTC by default
    assert Event.objects.filter(event_name="parqex_door.linked").count() == 2


def test_an_unchanged_poll_writes_only_the_poll_time(parqex_url):
    account = parqex_account(property_create(), base_url=parqex_url)
    _poll(account)
    runs, events, first_success = SyncRun.objects.count(), Event.objects.count(), account.last_success_at
    with CaptureQueriesContext(connection) as queries:
        run = _poll(account)
    assert (run.status, run.unchanged, run.created, run.updated) == ("succeeded", 2, 0, 0)
    # one write: the account's poll time (and next attempt); no run, no event, no door, lock or link
    assert _writes(queries.captured_queries) == ["integrations_integrationaccount"]
    assert SyncRun.objects.count() == runs and Event.objects.count() == events
    assert account.last_success_at > first_success and account.last_attempt_at == run.started_at
    assert account.status == "ok" and account.next_attempt_at > account.last_success_at


def test_a_poll_that_changes_something_is_recorded_as_a_run(parqex_url):
    account = parqex_account(property_create(), base_url=parqex_url)
    _poll(account)
    _poll(account)  # unchanged: not recorded
    control(parqex_url, "PATCH", f"doors/{KITTY}", {"name": "Kitty door"})
    with CaptureQueriesContext(connection) as queries:
        run = _poll(account)
    assert SyncRun.objects.filter(account=account).count() == 2
    assert SyncRun.objects.get(pk=run.pk).updated == 1
    assert _writes(queries.captured_queries).count("integrations_integrationaccount") == 1


def test_a_change_updates_the_lock_and_its_door_through_the_services(parqex_url):
    account = parqex_account(property_create(), base_url=parqex_url)
    _poll(account)
    control(parqex_url, "PATCH", f"doors/{KITTY}", {"name": "Kitty door", "state": "CLOSED"})
    control(parqex_url, "PATCH", f"doors/{LAST}", {"bluetooth_sensor": False})
    run = _poll(account)
    assert (run.updated, run.unchanged) == (2, 0)
    assert Lock.objects.get(parqex_door__door_id=KITTY).display_name == "Kitty door"
    assert ParqExDoor.objects.get(door_id=KITTY).door_state == "closed"
    assert ParqExDoor.objects.get(door_id=LAST).battery_level is None  # sensor gone: unknown, not 0 %
    assert Event.objects.filter(event_name="lock.updated").exists()


def test_a_vanished_door_is_marked_missing_never_deleted_and_comes_back(parqex_url):
    account = parqex_account(property_create(), base_url=parqex_url)
    _poll(account)
    control(parqex_url, "DELETE", f"doors/{KITTY}")
    run = _poll(account)
    assert (run.fetched, run.updated, run.unchanged) == (1, 1, 1)
    door = ParqExDoor.objects.get(door_id=KITTY)
    assert door.missing_since is not None and Lock.objects.filter(pk=door.lock_id).exists()
    assert ExternalRef.objects.filter(external_id=KITTY).exists()
    _poll(account)  # still missing: no second mark
    assert Event.objects.filter(event_name="parqex_door.missing").count() == 1
    control(parqex_url, "POST", "reset")
    _poll(account)
    assert ParqExDoor.objects.get(door_id=KITTY).missing_since is None


def test_active_false_makes_the_lock_inactive_and_back(parqex_url):
    account = parqex_account(property_create(), base_url=parqex_url)
    _poll(account)
    control(parqex_url, "PATCH", f"doors/{KITTY}", {"active": False})
    _poll(account)
    assert Lock.objects.get(parqex_door__door_id=KITTY).type_state == "inactive"
    control(parqex_url, "PATCH", f"doors/{KITTY}", {"active": True})
    _poll(account)
    assert Lock.objects.get(parqex_door__door_id=KITTY).type_state == "active"


def test_a_bad_door_is_skipped_with_its_link_failed_the_rest_applied(parqex_url, caplog):
    account = parqex_account(property_create(), base_url=parqex_url)
    _poll(account)
    control(parqex_url, "PATCH", f"doors/{KITTY}", {"last_toggled": "yesterday", "name": "Renamed"})
    control(parqex_url, "PATCH", f"doors/{LAST}", {"name": "Gate"})
    run = _poll(account)
    assert (run.status, run.failed, run.updated) == ("succeeded", 1, 1)
    kitty = Lock.objects.get(parqex_door__door_id=KITTY)
    assert kitty.display_name == "Kitty"  # last good state kept
    assert ExternalRef.objects.get(external_id=KITTY).sync_status == "failed"
    assert Lock.objects.get(parqex_door__door_id=LAST).display_name == "Gate"
    assert "last_toggled" in caplog.text
    control(parqex_url, "PATCH", f"doors/{KITTY}", {"last_toggled": "2020-12-18 18:32:25"})
    _poll(account)
    assert ExternalRef.objects.get(external_id=KITTY).sync_status == "synced"
    assert Lock.objects.get(pk=kitty.pk).display_name == "Renamed"


def test_401_needs_reauth_and_500_backs_off_deleting_nothing(parqex_url):
    account = parqex_account(property_create(), base_url=parqex_url)
    _poll(account)
    control(parqex_url, "POST", "fail", {"mode": "500", "times": 5})
    run = _poll(account)
    assert run.status == "failed" and account.status == "backing_off" and "HTTP 500" in account.last_error
    control(parqex_url, "POST", "reset")
    control(parqex_url, "POST", "fail", {"mode": "401"})
    _poll(account)
    assert account.status == "needs_reauth"
    assert ParqExDoor.objects.count() == 2 and ExternalRef.objects.filter(source="parqex").count() == 2


def test_one_failing_account_delays_no_other(parqex_url):
    good = parqex_account(property_create(), base_url=parqex_url)
    bad = parqex_account(property_create(), base_url=parqex_url, display_name="Old token", token="expired")
    _poll(bad)
    _poll(good)
    assert bad.status == "needs_reauth" and good.status == "ok"
    assert ParqExDoor.objects.filter(account=good).count() == 2 and not ParqExDoor.objects.filter(account=bad).exists()


def test_the_token_never_reaches_the_logs_or_the_run(parqex_url, caplog):
    account = parqex_account(property_create(), base_url=parqex_url, token="tok-1234567890")
    control(parqex_url, "POST", "state", {"token": "tok-1234567890"})
    _poll(account)
    control(parqex_url, "POST", "fail", {"mode": "401"})
    run = _poll(account)
    assert "tok-1234567890" not in caplog.text and "tok-1234567890" not in run.error


def test_integration_poll_parqex_command(parqex_url, capsys):
    account = parqex_account(property_create(), base_url=parqex_url)
    call_command("integration_poll", "parqex", "--account", str(account.pk))
    out = capsys.readouterr().out
    assert "ParqEx" in out and "created 2" in out


def test_doors_report_health_battery_only_with_a_sensor(parqex_url):
    from apps.locks.models import LockHealth

    account = parqex_account(property_create(), base_url=parqex_url)
    _poll(account)
    kitty = LockHealth.objects.get(lock__parqex_door__door_id=KITTY)
    last = LockHealth.objects.get(lock__parqex_door__door_id=LAST)
    assert (kitty.source, kitty.battery_level, kitty.door_state) == ("parqex", None, "open")
    assert last.battery_level == 98 and not last.battery_low
    assert last.held_open_after_seconds == 3600 and kitty.held_open_after_seconds == 900
    assert not kitty.online  # last contact in 2020
    control(parqex_url, "PATCH", f"doors/{LAST}", {"bluetooth_sensor_battery_level": 12})
    _poll(account)
    assert LockHealth.objects.get(lock__parqex_door__door_id=LAST).battery_low
    assert Event.objects.filter(event_name="lock.battery_low").count() == 1


def test_parqex_health_transitions_append_one_event_each_and_clear(parqex_url):
    from apps.locks.models import LockHealth

    def names(door_id):
        lock_id = ParqExDoor.objects.get(door_id=door_id).lock_id
        return list(
            Event.objects.filter(lock_id=lock_id, event_name__startswith="lock.").values_list("event_name", flat=True)
        )

    account = parqex_account(property_create(), base_url=parqex_url)
    _poll(account)
    assert LockHealth.objects.get(lock__parqex_door__door_id=KITTY).held_open  # open since 2020, alert after 900 s
    assert names(KITTY).count("lock.held_open") == 1
    control(parqex_url, "PATCH", f"doors/{KITTY}", {"state": "CLOSED"})
    _poll(account)
    _poll(account)  # unchanged: no second event
    kitty = LockHealth.objects.get(lock__parqex_door__door_id=KITTY)
    assert kitty.door_state == "closed" and not kitty.held_open
    assert names(KITTY).count("lock.held_open_cleared") == 1
    control(parqex_url, "PATCH", f"doors/{LAST}", {"bluetooth_sensor_battery_level": 12})
    _poll(account)
    control(parqex_url, "PATCH", f"doors/{LAST}", {"bluetooth_sensor_battery_level": 90})
    _poll(account)
    assert not LockHealth.objects.get(lock__parqex_door__door_id=LAST).battery_low
    assert [n for n in names(LAST) if n.startswith("lock.battery")] == ["lock.battery_low", "lock.battery_low_cleared"]


def test_a_failing_account_makes_its_doors_stale_not_offline_and_a_good_poll_clears_it(parqex_url, settings):
    from apps.locks.models import LockHealth

    settings.KEYHOUSE_INTEGRATION_HTTP_RETRIES = 0
    account = parqex_account(property_create(), base_url=parqex_url)
    _poll(account)
    process_events()  # what the worker does after commit: the sync_run.finished handler
    control(parqex_url, "POST", "fail", {"mode": "500"})
    _poll(account)
    process_events()  # what the worker does after commit: the sync_run.finished handler
    assert LockHealth.objects.filter(stale=True).count() == 2
    assert Event.objects.filter(event_name="lock.stale").count() == 2
    _poll(account)
    process_events()  # what the worker does after commit: the sync_run.finished handler
    assert not LockHealth.objects.filter(stale=True).exists()
    assert Event.objects.filter(event_name="lock.stale_cleared").count() == 2


def test_zone_less_times_are_read_in_the_account_s_time_zone(parqex_url):
    import datetime as dt

    from apps.locks.models import LockHealth

    utc = parqex_account(property_create(), base_url=parqex_url)
    paris = parqex_account(property_create(), base_url=parqex_url, display_name="Paris", time_zone="Europe/Paris")
    _poll(utc)
    _poll(paris)
    assert utc.time_zone == "UTC" and paris.time_zone == "Europe/Paris"
    # the seed's "2020-12-18 18:47:25": 18:47:25 UTC by default, 17:47:25 UTC as Paris wall-clock time (CET)
    seen = dict(ParqExDoor.objects.filter(door_id=KITTY).values_list("account_id", "controller_last_contact"))
    assert seen[utc.pk] == dt.datetime(2020, 12, 18, 18, 47, 25, tzinfo=dt.UTC)
    assert seen[paris.pk] == dt.datetime(2020, 12, 18, 17, 47, 25, tzinfo=dt.UTC)
    health = LockHealth.objects.get(lock__parqex_door__door_id=KITTY, lock__parqex_door__account=paris)
    assert health.door_opened_at == dt.datetime(2020, 12, 18, 17, 32, 25, tzinfo=dt.UTC)


def test_a_backing_off_account_is_dispatched_only_once_its_time_has_come(parqex_url, settings):
    """Backoff on a fixed clock: the dispatcher (beat) skips the failing account until its next
    attempt, and the other account of the same cloud keeps its own schedule."""
    import datetime as dt

    settings.KEYHOUSE_INTEGRATION_HTTP_RETRIES = 0
    failing = parqex_account(property_create(), base_url=parqex_url)
    healthy = parqex_account(property_create(), base_url=parqex_url, display_name="Healthy")
    control(parqex_url, "POST", "fail", {"mode": "500"})
    _poll(failing)
    _poll(healthy)
    assert failing.status == "backing_off" and healthy.status == "ok"
    due = failing.next_attempt_at
    assert 25 <= (due - failing.last_attempt_at).total_seconds() <= 60  # first failure: 30–60 s, jittered
    assert failing.pk not in services.integration_accounts_dispatch(now=due - dt.timedelta(seconds=1))
    assert ParqExDoor.objects.filter(account=failing).count() == 0  # nothing ran in between
    assert failing.pk in services.integration_accounts_dispatch(now=due + dt.timedelta(seconds=1))
