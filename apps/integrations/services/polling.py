"""Polls of integration accounts (docs/INTEGRATIONS.md): "Poll now", the dispatcher, and one poll.

A poll is three short transactions around the remote calls, so no database transaction stays
open while a remote answers: claim (open a `SyncRun`, `sync_run.started`), the vendor's poll
(its own writes go through the domain services; its counts are saved as it goes), then finish
(close the run, set the account's status and next attempt, `sync_run.finished`). A failed poll
changes only the account's status, error and timing: it never deletes anything.
"""

import logging
import traceback
from collections.abc import Mapping
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.exceptions import ApplicationError
from apps.events.services import event_append
from apps.integrations import http, registry, selectors
from apps.integrations.backoff import backoff_delay
from apps.integrations.choices import IntegrationAccountStatus, SyncRunStatus
from apps.integrations.constants import (
    ERROR_TEXT_MAX,
    POLL_LEASE_SECONDS,
)
from apps.integrations.models import IntegrationAccount, SyncRun
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
    except Exception:  # noqa: BLE001 - broker errors vary by transport; the lease makes it due again
        logger.warning("could not enqueue the poll of integration account %s", account_id, exc_info=True)


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

    Each due account is leased first (its next attempt moved POLL_LEASE_SECONDS ahead), so a
    slow queue never gets the same account twice; the poll sets the real next attempt.
    One transaction per account: an account row locked elsewhere delays no other.
    """
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=POLL_LEASE_SECONDS)
    enqueued = []
    for account_id in list(selectors.integration_accounts_due(now=now).values_list("pk", flat=True)):
        with transaction.atomic():
            leased = (
                selectors.integration_accounts_due(now=now).filter(pk=account_id).update(next_attempt_at=lease_until)
            )
            if leased:
                transaction.on_commit(partial(_enqueue_poll, account_id, SCHEDULED))
                enqueued.append(account_id)
    return enqueued


def _claim(account_id, trigger: str) -> tuple[IntegrationAccount, SyncRun] | None:
    """Open a run for the account, or None if it is gone, disabled, or already being polled."""
    now = timezone.now()
    with transaction.atomic():
        account = IntegrationAccount.objects.select_for_update().filter(pk=account_id).first()
        if account is None or account.status == IntegrationAccountStatus.DISABLED:
            return None
        if trigger == SCHEDULED and account.status == IntegrationAccountStatus.NEEDS_REAUTH:
            return None  # only new credentials or "Poll now" wake it
        stale = now - timedelta(seconds=POLL_LEASE_SECONDS)
        running = SyncRun.objects.filter(account=account, status=SyncRunStatus.RUNNING)
        if running.filter(started_at__gt=stale).exists():
            return None
        for lost in running:
            _run_close(lost, status=SyncRunStatus.FAILED, error="Interrupted: its worker stopped before finishing.")
        account.last_attempt_at = now
        account.next_attempt_at = now + timedelta(seconds=POLL_LEASE_SECONDS)
        account.save(update_fields=["last_attempt_at", "next_attempt_at"])
        run = SyncRun.objects.create(account=account, started_at=now, trigger=trigger)
        event_append(
            event_name="sync_run.started",
            actor=trigger if trigger != SCHEDULED else "system",
            property_id=account.property_id,
            payload=_payload(account, syncRunId=str(run.id)),
        )
    return account, run


def _run_close(run: SyncRun, *, status: str, error: str = "") -> None:
    run.status = status
    run.error = error[:ERROR_TEXT_MAX]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    event_append(
        event_name="sync_run.finished",
        actor="system",
        property_id=run.account.property_id,
        payload={
            "accountId": str(run.account_id),
            "syncRunId": str(run.id),
            "status": status,
            **{name: getattr(run, name) for name in COUNTERS},
            **({"error": run.error} if run.error else {}),
        },
    )


def _progress(run: SyncRun):
    """The counters a vendor's poll adds to; each call saves them (an UPDATE … SET n = n + k)."""

    def add(**counts: int) -> None:
        unknown = set(counts) - set(COUNTERS)
        if unknown:
            raise TypeError(f"unknown counters: {', '.join(sorted(unknown))}")
        counts = {name: n for name, n in counts.items() if n}
        if counts:
            SyncRun.objects.filter(pk=run.pk).update(**{name: F(name) + n for name, n in counts.items()})

    return add


def _scrubbed(text: str, credentials: Mapping[str, str], *, limit: int | None = ERROR_TEXT_MAX) -> str:
    """An error text without any credential value in it (a vendor echoing a key back)."""
    for value in credentials.values():
        if value and len(value) >= 4:
            text = text.replace(value, "[credential]")
    return text[:limit] if limit else text


def integration_account_poll(*, account_id, trigger: str = SCHEDULED) -> SyncRun | None:
    """Poll one account now with its vendor's poll function; returns the closed run, or None
    when there was nothing to do (gone, disabled, waiting for credentials, or already running).

    Success: `ok`, failures reset, next poll after the interval. AuthFailed: `needs_reauth`, not
    polled again until the credentials change or someone presses Poll now. Any other failure:
    `backing_off`, next poll after `backoff_delay` (Retry-After honoured).
    """
    claimed = _claim(account_id, trigger)
    if claimed is None:
        return None
    account, run = claimed
    credentials: dict[str, str] = {}
    error: Exception | None = None
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
            "integration account %s (%s) poll failed: %s", account.pk, account.kind, _scrubbed(str(exc), credentials)
        )
    except Exception as exc:  # noqa: BLE001 - a vendor bug must fail this account only, and be seen
        error = exc
        trace = _scrubbed("".join(traceback.format_exception(exc)), credentials, limit=None)
        logger.error("integration account %s (%s) poll crashed:\n%s", account.pk, account.kind, trace)
    return _finish(account.pk, run.pk, error=error, credentials=credentials)


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


@transaction.atomic
def _finish(account_id, run_id, *, error: Exception | None, credentials: Mapping[str, str]) -> SyncRun | None:
    account = IntegrationAccount.objects.select_for_update().filter(pk=account_id).first()
    run = SyncRun.objects.select_related("account").filter(pk=run_id).first()
    if account is None or run is None:
        return None  # the account was deleted while it was polled: nothing left to record
    now = timezone.now()
    disabled = account.status == IntegrationAccountStatus.DISABLED  # disabled while it ran: stays so
    if error is None:
        account.status = IntegrationAccountStatus.OK
        account.consecutive_failures = 0
        account.last_success_at = now
        account.last_error = ""
        account.next_attempt_at = now + timedelta(seconds=account.poll_interval_seconds)
        _run_close(run, status=SyncRunStatus.SUCCEEDED)
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
        _run_close(run, status=SyncRunStatus.FAILED, error=text)
    if disabled:
        account.status = IntegrationAccountStatus.DISABLED
        account.next_attempt_at = None
    account.save(
        update_fields=[
            "status",
            "consecutive_failures",
            "last_success_at",
            "last_error",
            "next_attempt_at",
        ]
    )
    run.refresh_from_db()
    return run
