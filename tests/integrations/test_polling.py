"""Polling an account end to end against a real loopback server: statuses, backoff, Retry-After,
401, timeouts, malformed answers, isolation between accounts, and nothing deleted on failure."""

import logging
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.actors import SYSTEM
from apps.core.models import ExternalRef
from apps.events.models import Event
from apps.integrations import registry, services
from apps.integrations.constants import POLL_LEASE_SECONDS
from apps.integrations.models import IntegrationAccount, SyncRun
from apps.integrations.registry import Vendor
from apps.integrations.services import leases
from tests.factories.directory import property_create, user_create
from tests.factories.integrations import APIKEY, APIUSER, lockt_account
from tests.integrations.loopback import Answer

pytestmark = pytest.mark.django_db

ABOUT = {"data": {"version": "1.1.0", "release_date": "Jul 10, 2022"}}
LOCKT_READS = (
    "schedule",
    "door",
    "doorstate",
    "accesslevel",
    "delegate",
    "user",
    "events",
    "credential",
    "fob",
)  # what a Lockt poll reads after /ping


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.KEYHOUSE_INTEGRATION_READ_TIMEOUT = 1
    settings.KEYHOUSE_INTEGRATION_BACKOFF_BASE_SECONDS = 60
    settings.KEYHOUSE_INTEGRATION_BACKOFF_CAP_SECONDS = 3600


def _healthy(remote, prefix="/api/v1"):
    remote.answer(f"{prefix}/ping", Answer(200, {"data": [{"ping": "pong"}]}))
    for path in LOCKT_READS:  # an empty Lockt account
        remote.answer(f"{prefix}/{path}", Answer(200, {"data": []}))


def _account(remote, prefix="/api/v1", **kw):
    return lockt_account(property_create(), base_url=f"{remote.url}{prefix}", **kw)


def _poll(account, **kw):
    run = services.integration_account_poll(account_id=account.pk, **kw)
    account.refresh_from_db()
    return run


def _seconds_until(when):
    return (when - timezone.now()).total_seconds()


def test_credentials_are_stored_wrapped_and_come_back_only_to_the_poll():
    account = lockt_account(property_create(), base_url="https://cloudapi.lockt.com/api/v1")
    stored = bytes(IntegrationAccount.objects.get(pk=account.pk).wrapped_credentials)
    assert APIKEY.encode() not in stored and APIUSER.encode() not in stored
    assert services.integration_account_credentials(account=account) == {"apiuser": APIUSER, "apikey": APIKEY}
    event = Event.objects.get(event_name="integration_account.created")
    assert event.property_id == account.property_id
    assert APIKEY not in str(event.payload) and event.payload["displayName"] == "Lockt cloud"


def test_credentials_copied_to_another_account_row_do_not_open():
    first = lockt_account(property_create(), base_url="https://a.example/api/v1")
    second = lockt_account(
        property_create(), base_url="https://b.example/api/v1", credentials={"apiuser": "u", "apikey": "k"}
    )
    IntegrationAccount.objects.filter(pk=second.pk).update(wrapped_credentials=first.wrapped_credentials)
    second.refresh_from_db()
    from apps.keys.kek import KekError

    with pytest.raises(KekError):
        services.integration_account_credentials(account=second)


def test_a_healthy_poll_sends_the_lockt_headers_and_schedules_the_next_after_the_interval(remote):
    _healthy(remote)
    account = _account(remote, poll_interval_seconds=600)
    run = _poll(account)
    assert run.status == "succeeded" and run.error == "" and run.finished_at is not None
    assert account.status == "ok" and account.consecutive_failures == 0 and account.last_success_at
    assert 590 < _seconds_until(account.next_attempt_at) <= 600
    assert remote.paths() == ["/api/v1/ping", *(f"/api/v1/{path}" for path in LOCKT_READS)]
    for received in remote.received:
        assert received.headers["apiuser"] == APIUSER and received.headers["apikey"] == APIKEY
        assert received.headers["Content-Type"] == "application/json"
    names = list(Event.objects.filter(payload__accountId=str(account.pk)).values_list("event_name", flat=True))
    assert names == ["integration_account.created", "sync_run.started", "sync_run.finished"]


def test_401_means_needs_reauth_until_new_credentials_arrive(remote, django_capture_on_commit_callbacks):
    remote.answer("/api/v1/ping", Answer(401, {"data": [{"error": "Access denied"}]}))
    account = _account(remote)
    run = _poll(account)
    assert run.status == "failed" and "HTTP 401" in run.error
    assert account.status == "needs_reauth" and account.next_attempt_at is None
    assert "refused the credentials" in account.last_error
    # the dispatcher leaves it alone, even long after
    assert services.integration_accounts_dispatch(now=timezone.now() + timedelta(days=30)) == []
    assert services.integration_account_poll(account_id=account.pk) is None  # a scheduled poll skips it
    # new credentials: polled at once, and healthy again
    _healthy(remote)
    services.integration_account_update(
        account=account, credentials={"apiuser": APIUSER, "apikey": "new"}, actor=SYSTEM
    )
    account.refresh_from_db()
    assert account.status == "ok" and account.consecutive_failures == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.integration_accounts_dispatch() == [account.pk]
    account.refresh_from_db()
    assert account.status == "ok" and remote.received[-1].headers["apikey"] == "new"


def test_server_errors_back_off_exponentially_and_a_success_resets(remote, settings):
    settings.KEYHOUSE_INTEGRATION_HTTP_RETRIES = 0
    remote.answer("/api/v1/ping", Answer(500))
    account = _account(remote)
    waits = []
    for _ in range(3):
        run = _poll(account)
        waits.append(_seconds_until(account.next_attempt_at))
        assert run.status == "failed" and run.error == "GET ping: HTTP 500"
    assert account.status == "backing_off" and account.consecutive_failures == 3
    assert 25 < waits[0] <= 60 and 55 < waits[1] <= 120 and 115 < waits[2] <= 240
    _healthy(remote)
    _poll(account)
    assert account.status == "ok" and account.consecutive_failures == 0 and account.last_error == ""


def test_retry_after_beyond_the_cap_is_honoured(remote):
    remote.answer("/api/v1/ping", Answer(503, headers={"Retry-After": "7200"}))
    account = _account(remote)
    run = _poll(account)
    assert run.error == "GET ping: HTTP 503, Retry-After 7200 s"
    assert account.status == "backing_off"
    assert 7190 < _seconds_until(account.next_attempt_at) <= 7200  # not the 30–60 s of a first failure
    assert remote.paths() == ["/api/v1/ping"]  # a long Retry-After is not waited for by the worker


def test_a_hung_remote_times_out_and_backs_off(remote, settings):
    settings.KEYHOUSE_INTEGRATION_HTTP_RETRIES = 0
    remote.answer("/api/v1/ping", Answer(200, {}, delay=1.5))
    account = _account(remote)
    run = _poll(account)
    assert run.status == "failed" and "GET ping: timed out" in run.error
    assert account.status == "backing_off"


def test_a_malformed_answer_backs_off_naming_the_call(remote):
    remote.answer("/api/v1/ping", Answer(200, {}))
    remote.answer("/api/v1/schedule", Answer(200, "<html>maintenance</html>"))
    account = _account(remote)
    run = _poll(account)
    assert run.error == "GET schedule: HTTP 200 body is not JSON" and account.status == "backing_off"
    remote.answer("/api/v1/schedule", Answer(200, {"result": "ok"}))
    assert _poll(account).error == "GET schedule: no `data` list in the answer"


def test_a_failing_account_delays_no_other(remote, settings, django_capture_on_commit_callbacks):
    settings.KEYHOUSE_INTEGRATION_HTTP_RETRIES = 0
    _healthy(remote, "/good")
    remote.answer("/slow/ping", Answer(200, {}, delay=1.5))
    remote.answer("/down/ping", Answer(500))
    remote.answer("/revoked/ping", Answer(401))
    slow, down, revoked = (_account(remote, f"/{name}", display_name=name) for name in ("slow", "down", "revoked"))
    good = _account(remote, "/good", display_name="good")
    with django_capture_on_commit_callbacks(execute=True):
        enqueued = services.integration_accounts_dispatch()
    assert set(enqueued) == {slow.pk, down.pk, revoked.pk, good.pk}
    for account in (slow, down, revoked, good):
        account.refresh_from_db()
    assert (slow.status, down.status, revoked.status, good.status) == (
        "backing_off",
        "backing_off",
        "needs_reauth",
        "ok",
    )
    assert SyncRun.objects.get(account=good).status == "succeeded"


def test_a_failure_deletes_nothing(remote):
    _healthy(remote)
    account = _account(remote)
    person = user_create()
    lockt_user = {"id": 1693, "first_name": "Susan", "last_name": "Brown", "email": person.email}
    remote.answer("/api/v1/user", Answer(200, {"data": [lockt_user]}))  # still in Lockt
    ExternalRef.objects.create(
        entity=person,
        source="lockt",
        account_id=account.pk,
        external_id="1693",
        sync_direction="fromExternalToInternal",
    )
    _poll(account)
    remote.answer("/api/v1/ping", Answer(500))
    _poll(account)
    _poll(account)
    assert ExternalRef.objects.filter(account_id=account.pk, external_id="1693").exists()
    assert SyncRun.objects.filter(account=account).count() == 3
    assert account.last_success_at is not None  # the last good poll is still on record


def test_a_crashing_vendor_fails_its_account_only(remote, monkeypatch, caplog):
    def crash(context):
        context.progress(fetched=3, failed=1)
        raise RuntimeError(f"bug with {context.credentials['apikey']}")

    vendor = registry.vendor_get("lockt")
    monkeypatch.setitem(registry._VENDORS, "lockt", Vendor(**{**vendor.__dict__, "poll": crash}))
    account = _account(remote)
    with caplog.at_level(logging.DEBUG):
        run = _poll(account)
    assert run.status == "failed" and run.error == "Unexpected error: RuntimeError"
    assert "RuntimeError: bug with [credential]" in caplog.text and APIKEY not in caplog.text  # trace, scrubbed
    assert (run.fetched, run.failed) == (3, 1)  # counts saved while it ran stay
    assert account.status == "backing_off"


def test_no_secret_reaches_logs_or_stored_errors(remote, monkeypatch, caplog):
    from apps.integrations.http import Transient

    def echo(context):
        raise Transient(f"remote said: bad key {context.credentials['apikey']}")

    vendor = registry.vendor_get("lockt")
    monkeypatch.setitem(registry._VENDORS, "lockt", Vendor(**{**vendor.__dict__, "poll": echo}))
    account = _account(remote)
    with caplog.at_level(logging.DEBUG):
        run = _poll(account)
    assert run.error == "remote said: bad key [credential]" and account.last_error == run.error
    assert APIKEY not in caplog.text
    assert not Event.objects.filter(payload__icontains=APIKEY).exists()


def test_the_dispatcher_leases_due_accounts_so_a_slow_queue_gets_each_once(remote):
    _healthy(remote)
    account = _account(remote)
    due = account.next_attempt_at
    with CaptureQueriesContext(connection) as queries:
        assert services.integration_accounts_dispatch() == [account.pk]  # not run: callbacks not executed
        assert services.integration_accounts_dispatch() == []
    assert not [q for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    account.refresh_from_db()
    assert account.next_attempt_at == due  # the lease is in the cache, not the row
    # its lease runs out (a lost task): the dispatcher enqueues it again
    later = timezone.now() + timedelta(seconds=POLL_LEASE_SECONDS + 1)
    assert services.integration_accounts_dispatch(now=later) == [account.pk]
    # once its poll has run, the next due time enqueues it at once
    _poll(account, trigger=services.SCHEDULED)
    assert services.integration_accounts_dispatch(now=account.next_attempt_at) == [account.pk]


def test_one_account_is_never_polled_twice_at_once_and_a_lost_lease_expires(remote):
    _healthy(remote)
    account = _account(remote)
    now = timezone.now()
    assert leases.lease_take(leases.POLLING, account.pk, now=now)  # another worker polls it
    assert _poll(account) is None  # skipped
    assert remote.received == []
    # that worker died: once its lease has run out, the account is polled again
    assert leases.lease_take(leases.POLLING, account.pk, now=now) is None
    past = (now - timedelta(seconds=1)).timestamp()
    cache.set(leases._key(leases.POLLING, account.pk), f"lost {past}")  # its expiry has passed
    run = _poll(account)
    assert run.status == "succeeded"
    assert not leases.lease_held(leases.POLLING, account.pk, now=timezone.now())  # dropped when done


def test_a_disabled_account_is_never_polled_and_poll_now_is_refused(remote):
    from apps.core.exceptions import ApplicationError

    _healthy(remote)
    account = _account(remote)
    services.integration_account_update(account=account, enabled=False, actor=SYSTEM)
    assert services.integration_account_poll(account_id=account.pk, trigger="staff:x") is None
    with pytest.raises(ApplicationError, match="disabled"):
        services.integration_account_poll_request(account=account, actor=SYSTEM)
    assert remote.received == []


def test_integration_poll_command_polls_in_process(remote, capsys):
    _healthy(remote, "/good")
    remote.answer("/bad/ping", Answer(401))
    good = _account(remote, "/good", display_name="Good cloud")
    bad = _account(remote, "/bad", display_name="Bad cloud")
    with pytest.raises(CommandError, match="1 account"):
        call_command("integration_poll", "lockt")
    out, err = capsys.readouterr()
    assert "Good cloud" in out and "succeeded" in out and "account ok" in out
    assert "Bad cloud" in err and "needs_reauth" in err and "HTTP 401" in err
    call_command("integration_poll", "lockt", "--account", str(good.pk))
    assert SyncRun.objects.filter(account=good).count() == 2
    assert SyncRun.objects.filter(account=bad).count() == 1
    with pytest.raises(CommandError, match="no lockt account"):
        call_command("integration_poll", "lockt", "--account", str(property_create().pk))


def test_an_account_deleted_while_it_is_polled_ends_quietly(remote, monkeypatch):
    def delete_meanwhile(context):
        services.integration_account_delete(account=context.account, actor=SYSTEM)

    vendor = registry.vendor_get("lockt")
    monkeypatch.setitem(registry._VENDORS, "lockt", Vendor(**{**vendor.__dict__, "poll": delete_meanwhile}))
    account = _account(remote)
    assert services.integration_account_poll(account_id=account.pk) is None
    assert not IntegrationAccount.objects.exists() and not SyncRun.objects.exists()
