"""Polls of integration accounts (docs/INTEGRATIONS.md "Polling"): "Poll now",
the dispatcher, and one poll.

No database transaction stays open while a remote answers. A poll claims its account with a
cache lease (apps/integrations/services/leases.py: no database write), runs the vendor's poll
(its own writes go through the domain services, one short transaction each; its counts are
kept in memory), then finishes in one transaction: one UPDATE of the account (poll time,
status, next attempt) and, only when worth recording, its `SyncRun` with `sync_run.started`
and `sync_run.finished`. An unchanged scheduled poll so writes exactly one row. A failed poll
changes only the account's status, error and timing: it never deletes anything.
"""

import logging
import traceback
from collections.abc import Mapping
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import ApplicationError
from apps.events.services import event_append
from apps.integrations import http, registry, selectors
from apps.integrations.backoff import backoff_delay
from apps.integrations.choices import IntegrationAccountStatus, SyncRunStatus
from apps.integrations.constants import ERROR_TEXT_MAX
from apps.integrations.models import IntegrationAccount, SyncRun
from apps.integrations.services import leases
from apps.integrations.services.accounts import _payload, _vendor, integration_account_credentials

logger = logging.getLogger("keyhouse.integrations")

SCHEDULED = "schedule"  # SyncRun.trigger of a dispatcher poll
COUNTERS = ("fetched", "created", "updated", "unchanged", "failed")


# --- polling ----------------------------------------------------------------------------------


def _enqueue_poll(account_id, trigger: str) -> None:
    """Hand one account's poll to Celery; a down broker is logged, the dispatcher retries later."""
    from apps.integrations import tasks  # local: its tasks module imports this one

    try:
        tasks.integration_account_poll.apply_async(
            args=[str(account_id), trigger], expires=settings.KEYHOUSE_INTEGRATION_POLL_TASK_EXPIRES
        )
    except Exception:  # noqa: BLE001 - broker errors vary by transport; the next beat enqueues it again
        logger.warning("could not enqueue the poll of integration account %s", account_id, exc_info=True)
        if trigger == SCHEDULED:
            leases.lease_drop(leases.QUEUED, account_id)


@transaction.atomic
def integration_account_poll_request(*, account: IntegrationAccount, actor: str) -> IntegrationAccount:
    """ "Poll now" (event `integration_account.poll_requested`): enqueue a poll of this account on
    commit, even if it backs off or waits for credentials; a disabled account is refused."""
    account = IntegrationAccount.objects.select_for_update().get(pk=account.pk)
    if account.status == IntegrationAccountStatus.DISABLED:
        raise ApplicationError("The account is disabled: enable it first.", fields={"enabled": ["Is false."]})
    event_append(
        event_name="integration_account.poll_requested",
        actor=actor,
        property_id=account.property_id,
        payload=_payload(account),
    )
    transaction.on_commit(partial(_enqueue_poll, account.pk, actor))
    return account


def integration_accounts_dispatch(*, now=None) -> list:
    """Enqueue one poll task per due account (the beat task); returns their ids.

    Each due account is leased first (the `queued` cache lease, apps/integrations/services/
    leases.py, dropped when its poll finishes), so a slow queue never gets the same account
    twice; the dispatcher writes no database row.
    """
    now = now or timezone.now()
    enqueued = []
    for account_id in list(selectors.integration_accounts_due(now=now).values_list("pk", flat=True)):
        if leases.lease_take(leases.QUEUED, account_id, now=now):
            transaction.on_commit(partial(_enqueue_poll, account_id, SCHEDULED))
            enqueued.append(account_id)
    return enqueued


def _claim(account_id, trigger: str) -> tuple[IntegrationAccount, SyncRun, str] | None:
    """The account, a run not yet saved, and the `polling` lease's token; or None if the account
    is gone, disabled, waiting for credentials (scheduled polls only), or already being polled.
    Writes no database row: the lease is in the cache."""
    now = timezone.now()
    account = IntegrationAccount.objects.filter(pk=account_id).first()
    if account is None or account.status == IntegrationAccountStatus.DISABLED:
        return None
    if trigger == SCHEDULED and account.status == IntegrationAccountStatus.NEEDS_REAUTH:
        return None  # only new credentials or "Poll now" wake it
    token = leases.lease_take(leases.POLLING, account.pk, now=now)
    if token is None:
        return None
    run = SyncRun(account=account, started_at=now, trigger=trigger, **dict.fromkeys(COUNTERS, 0))
    return account, run, token


def _run_record(run: SyncRun, *, status: str, error: str = "") -> None:
    """Save the run, closed, with its two events (inside _finish's transaction)."""
    run.status = status
    run.error = error[:ERROR_TEXT_MAX]
    run.finished_at = timezone.now()
    run.save(force_insert=True)
    account = run.account
    event_append(
        event_name="sync_run.started",
        actor=run.trigger if run.trigger != SCHEDULED else "system",
        property_id=account.property_id,
        payload=_payload(account, syncRunId=str(run.id), startedAt=run.started_at.isoformat()),
    )
    event_append(
        event_name="sync_run.finished",
        actor="system",
        property_id=account.property_id,
        payload={
            "accountId": str(run.account_id),
            "syncRunId": str(run.id),
            "status": status,
            **{name: getattr(run, name) for name in COUNTERS},
            **({"error": run.error} if run.error else {}),
        },
    )


def _progress(run: SyncRun):
    """The counters a vendor's poll adds to, kept on the unsaved run until it finishes."""

    def add(**counts: int) -> None:
        unknown = set(counts) - set(COUNTERS)
        if unknown:
            raise TypeError(f"unknown counters: {', '.join(sorted(unknown))}")
        for name, n in counts.items():
            setattr(run, name, getattr(run, name) + n)

    return add


def _scrubbed(text: str, credentials: Mapping[str, str], *, limit: int | None = ERROR_TEXT_MAX) -> str:
    """An error text without any credential value in it (a vendor echoing a key back)."""
    for value in credentials.values():
        if value and len(value) >= 4:
            text = text.replace(value, "[credential]")
    return text[:limit] if limit else text


def integration_account_poll(*, account_id, trigger: str = SCHEDULED) -> SyncRun | None:
    """Poll one account now with its vendor's poll function; returns the run, or None when there
    was nothing to do (gone, disabled, waiting for credentials, or already being polled).

    The run is saved (with `sync_run.started`/`finished`) only when it is worth a record: it
    failed, it changed something (created, updated or failed counts), it changed the account's
    status, or a person asked for it (any trigger but the schedule). An unchanged scheduled poll
    returns its run unsaved and writes one row: the account's poll time (docs/INTEGRATIONS.md).

    Success: `ok`, failures reset, next poll after the interval. AuthFailed: `needs_reauth`, not
    polled again until the credentials change or someone presses Poll now. Any other failure:
    `backing_off`, next poll after `backoff_delay` (Retry-After honoured).
    """
    try:
        return _poll(account_id, trigger)
    finally:
        if trigger == SCHEDULED:
            leases.lease_drop(leases.QUEUED, account_id)  # the dispatcher may enqueue it again


def _poll(account_id, trigger: str) -> SyncRun | None:
    claimed = _claim(account_id, trigger)
    if claimed is None:
        return None
    account, run, token = claimed
    credentials: dict[str, str] = {}
    error: Exception | None = None
    try:
        try:
            vendor = _vendor(account.kind)
            credentials = integration_account_credentials(account=account)
            client = _http_client(account, vendor, credentials)
            try:
                vendor.poll(
                    registry.PollContext(account=account, http=client, credentials=credentials, progress=_progress(run))
                )
            finally:
                client.close()
        except http.IntegrationError as exc:
            error = exc
            logger.warning(
                "integration account %s (%s) poll failed: %s",
                account.pk,
                account.kind,
                _scrubbed(str(exc), credentials),
            )
        except Exception as exc:  # noqa: BLE001 - a vendor bug must fail this account only, and be seen
            error = exc
            trace = _scrubbed("".join(traceback.format_exception(exc)), credentials, limit=None)
            logger.error("integration account %s (%s) poll crashed:\n%s", account.pk, account.kind, trace)
        return _finish(account.pk, run, error=error, credentials=credentials)
    finally:
        leases.lease_drop(leases.POLLING, account.pk, token)


def _http_client(account: IntegrationAccount, vendor: registry.Vendor, credentials: Mapping[str, str]):
    headers = {header: credentials[name] for name, header in (vendor.credential_headers or {}).items()}
    return http.HttpClient(
        account.base_url,
        secret_headers=headers,
        headers=vendor.headers,
        connect_timeout=settings.KEYHOUSE_INTEGRATION_CONNECT_TIMEOUT,
        read_timeout=settings.KEYHOUSE_INTEGRATION_READ_TIMEOUT,
        retries=settings.KEYHOUSE_INTEGRATION_HTTP_RETRIES,
    )


def integration_account_check(*, account: IntegrationAccount) -> tuple[bool, str]:
    """ "Test connection": the vendor's cheapest read with the stored URL and credentials, at
    once, in this process. Writes nothing (the account's status is the poll's to set). Returns
    (worked, a sentence in plain words naming the account, never a credential)."""
    vendor = _vendor(account.kind)
    name = account.display_name
    if vendor.check is None:
        return False, f"{name}: this kind of account has no connection test."
    credentials: dict[str, str] = {}
    try:
        credentials = integration_account_credentials(account=account)
        client = _http_client(account, vendor, credentials)
        try:
            said = vendor.check(
                registry.PollContext(account=account, http=client, credentials=credentials, progress=lambda **_: None)
            )
        finally:
            client.close()
    except http.AuthFailed as exc:
        return False, _scrubbed(
            f"{name}: the remote refused the credentials ({exc}). Enter a new key and save.", credentials
        )
    except http.Transient as exc:
        return False, _scrubbed(
            f"{name}: the remote could not be reached or is having trouble ({exc}). Try again later.", credentials
        )
    except http.Malformed as exc:
        return False, _scrubbed(
            f"{name}: something answered at {account.base_url}, but not as {account.kind} does ({exc}). "
            "Check the base URL.",
            credentials,
        )
    except http.IntegrationError as exc:
        return False, _scrubbed(f"{name}: the remote answered with an error ({exc}). Check the base URL.", credentials)
    return True, _scrubbed(f"{name}: connected; the credentials work ({said}).", credentials)


def _worth_recording(account: IntegrationAccount, run: SyncRun, error: Exception | None) -> bool:
    """A run is saved when it failed, changed data, changes the account, or a person asked."""
    return (
        error is not None
        or run.trigger != SCHEDULED
        or bool(run.created or run.updated or run.failed)
        or account.status != IntegrationAccountStatus.OK
        or account.consecutive_failures > 0
        or bool(account.last_error)
        or account.last_success_at is None
    )


@transaction.atomic
def _finish(account_id, run: SyncRun, *, error: Exception | None, credentials: Mapping[str, str]) -> SyncRun | None:
    """One UPDATE of the account (poll time, status, next attempt), and the run if it is worth
    recording (_worth_recording)."""
    account = IntegrationAccount.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        return None  # the account was deleted while it was polled: nothing left to record
    now = timezone.now()
    disabled = account.status == IntegrationAccountStatus.DISABLED  # disabled while it ran: stays so
    record = _worth_recording(account, run, error)
    run.account = account
    account.last_attempt_at = run.started_at
    if error is None:
        account.status = IntegrationAccountStatus.OK
        account.consecutive_failures = 0
        account.last_success_at = now
        account.last_error = ""
        account.next_attempt_at = now + timedelta(seconds=account.poll_interval_seconds)
        status, text = SyncRunStatus.SUCCEEDED, ""
    else:
        text = str(error) if isinstance(error, http.IntegrationError) else f"Unexpected error: {type(error).__name__}"
        text = _scrubbed(text, credentials)
        account.last_error = text
        account.consecutive_failures += 1
        if isinstance(error, http.AuthFailed):
            account.status = IntegrationAccountStatus.NEEDS_REAUTH
            account.next_attempt_at = None
        else:
            account.status = IntegrationAccountStatus.BACKING_OFF
            delay = backoff_delay(
                account.consecutive_failures,
                base=settings.KEYHOUSE_INTEGRATION_BACKOFF_BASE_SECONDS,
                cap=settings.KEYHOUSE_INTEGRATION_BACKOFF_CAP_SECONDS,
                retry_after=getattr(error, "retry_after", None),
                retry_after_max=settings.KEYHOUSE_INTEGRATION_RETRY_AFTER_MAX_SECONDS,
            )
            account.next_attempt_at = now + timedelta(seconds=delay)
        status = SyncRunStatus.FAILED
    if disabled:
        account.status = IntegrationAccountStatus.DISABLED
        account.next_attempt_at = None
    account.save(
        update_fields=[
            "status",
            "consecutive_failures",
            "last_attempt_at",
            "last_success_at",
            "last_error",
            "next_attempt_at",
        ]
    )
    if record:
        _run_record(run, status=status, error=text)
    else:
        run.status, run.finished_at = status, now
    return run
