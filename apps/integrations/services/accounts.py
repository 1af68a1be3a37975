"""Integration accounts: their credentials (wrapped under the KEK ring) and their create,
update and delete (docs/INTEGRATIONS.md). Each write is one transaction with its event."""

import json
import logging
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import ApplicationError, ConflictError
from apps.core.models import ExternalRef
from apps.events.services import event_append
from apps.integrations import http, registry
from apps.integrations.choices import IntegrationAccountStatus
from apps.integrations.constants import (
    CREDENTIAL_MAX_LENGTH,
    CREDENTIALS_ALGORITHM,
    CREDENTIALS_PURPOSE,
    POLL_INTERVAL_DEFAULT,
)
from apps.integrations.models import IntegrationAccount
from apps.keys import kek

logger = logging.getLogger("keyhouse.integrations")

UNSET = object()


# --- credentials ------------------------------------------------------------------------------


def _vendor(kind: str) -> registry.Vendor:
    vendor = registry.vendor_get(kind)
    if vendor is None:
        raise ApplicationError(f"kind: no {kind} integration on this server", fields={"kind": ["Not available."]})
    return vendor


def _checked_credentials(vendor: registry.Vendor, credentials: Mapping) -> dict[str, str]:
    """Exactly the vendor's credential fields, each a non-empty string (400 naming the field)."""
    if not isinstance(credentials, Mapping):
        raise ApplicationError("credentials: must be an object", fields={"credentials": ["Must be an object."]})
    errors: dict[str, list[str]] = {}
    for name in credentials:
        if name not in vendor.credential_fields:
            errors[f"credentials.{name}"] = [f"Unknown; {vendor.kind} takes {', '.join(vendor.credential_fields)}."]
    for name in vendor.credential_fields:
        value = credentials.get(name)
        if not isinstance(value, str) or not value.strip():
            errors[f"credentials.{name}"] = ["This field is required."]
        elif len(value) > CREDENTIAL_MAX_LENGTH or any(c in value for c in "\r\n\0"):
            errors[f"credentials.{name}"] = [f"Must be one line of at most {CREDENTIAL_MAX_LENGTH} characters."]
    if errors:
        raise ApplicationError("; ".join(f"{name}: {errors[name][0]}" for name in sorted(errors)), fields=errors)
    return {name: credentials[name] for name in vendor.credential_fields}


def _wrap_credentials(account: IntegrationAccount, credentials: dict[str, str], *, ring=None) -> None:
    """Encrypt the credentials under the current KEK, bound to this account's id."""
    plain = json.dumps(credentials, sort_keys=True, separators=(",", ":")).encode()
    account.kek_id, wrapped = kek.wrap(
        plain, key_id=str(account.id), purpose=CREDENTIALS_PURPOSE, algorithm=CREDENTIALS_ALGORITHM, ring=ring
    )
    account.wrapped_credentials = wrapped


def integration_account_credentials(*, account: IntegrationAccount, ring=None) -> dict[str, str]:
    """The account's credentials, decrypted (for its poll only; never shown or logged)."""
    plain = kek.unwrap(
        bytes(account.wrapped_credentials),
        kek_id=account.kek_id,
        key_id=str(account.id),
        purpose=CREDENTIALS_PURPOSE,
        algorithm=CREDENTIALS_ALGORITHM,
        ring=ring,
    )
    return json.loads(bytes(plain))


def integration_credentials_rewrap(*, ring: kek.KekRing, batch_size: int = 500) -> tuple[int, dict[str, str]]:
    """Rewrap every account's credentials not under the current KEK (manage.py rotate_kek, through
    apps/keys/holders.py): one transaction per account, resumable; no event per account (the
    command's `key.kek_rotated` counts them). Returns (rewrapped, {account: why it failed})."""
    rewrapped, failed = 0, {}
    todo = IntegrationAccount.objects.exclude(kek_id=ring.current_id).order_by("id").values_list("pk", flat=True)
    last_id = None
    while batch := list((todo.filter(pk__gt=last_id) if last_id else todo)[:batch_size]):
        for account_id in batch:
            last_id = account_id
            try:
                with transaction.atomic():
                    account = IntegrationAccount.objects.select_for_update().get(pk=account_id)
                    if account.kek_id == ring.current_id:
                        continue
                    _wrap_credentials(account, integration_account_credentials(account=account, ring=ring), ring=ring)
                    account.save(update_fields=["kek_id", "wrapped_credentials"])
                    rewrapped += 1
            except kek.KekError as exc:
                failed[f"integration account {account_id}"] = str(exc)
                logger.warning("integration account %s credentials not rewrapped: %s", account_id, exc)
    return rewrapped, failed


def _checked_base_url(url: str) -> str:
    try:
        return http.check_base_url(url, allow_http=settings.KEYHOUSE_INTEGRATION_ALLOW_HTTP)
    except ValueError as exc:
        raise ApplicationError(f"baseUrl: {exc}", fields={"baseUrl": [str(exc)]}) from None


def _payload(account: IntegrationAccount, **extra) -> dict:
    """An account event's payload: what a person reads, never the credentials."""
    return {"accountId": str(account.id), "kind": account.kind, "displayName": account.display_name, **extra}


# --- accounts ---------------------------------------------------------------------------------


@transaction.atomic
def integration_account_create(
    *,
    prop,
    kind: str,
    display_name: str,
    credentials: Mapping,
    actor: str,
    base_url: str | None = None,
    poll_interval_seconds: int | None = None,
    time_zone: str | None = None,
) -> IntegrationAccount:
    """Link a remote account to a property (event `integration_account.created`); it is polled
    at once by the dispatcher. The credentials are stored wrapped under the KEK ring."""
    vendor = _vendor(kind)
    checked = _checked_credentials(vendor, credentials)
    account = IntegrationAccount(
        kind=kind,
        property=prop,
        display_name=display_name,
        base_url=_checked_base_url(base_url or vendor.default_base_url),
        poll_interval_seconds=poll_interval_seconds or POLL_INTERVAL_DEFAULT,
        time_zone=time_zone or "UTC",
        next_attempt_at=timezone.now(),
        last_modified_by=actor,
    )
    _wrap_credentials(account, checked)
    _unique_name(account)
    account.full_clean()
    account.save()
    event_append(
        event_name="integration_account.created",
        actor=actor,
        property_id=prop.pk,
        payload=_payload(account, baseUrl=account.base_url, pollIntervalSeconds=account.poll_interval_seconds),
    )
    return account


def _unique_name(account: IntegrationAccount) -> None:
    clash = IntegrationAccount.objects.filter(
        property_id=account.property_id, kind=account.kind, display_name=account.display_name
    ).exclude(pk=account.pk)
    if clash.exists():
        message = f"This property already has a {account.kind} account named {account.display_name!r}."
        # a valid name another account holds: a conflict with what exists (409), not a bad request
        raise ConflictError(f"displayName: {message}", fields={"displayName": [message]})


@transaction.atomic
def integration_account_update(
    *,
    account: IntegrationAccount,
    actor: str,
    display_name=UNSET,
    base_url=UNSET,
    credentials=UNSET,
    poll_interval_seconds=UNSET,
    time_zone=UNSET,
    enabled=UNSET,
) -> IntegrationAccount:
    """Change what is given (event `integration_account.updated`, naming the changed fields).

    New credentials end `needs_reauth`: the account is polled again at once. `enabled=False`
    sets `disabled` (never polled); `enabled=True` on a disabled account sets `ok` and polls.
    """
    account = IntegrationAccount.objects.select_for_update().get(pk=account.pk)
    changed = []
    if display_name is not UNSET and display_name != account.display_name:
        account.display_name = display_name
        _unique_name(account)
        changed.append("displayName")
    if base_url is not UNSET:
        url = _checked_base_url(base_url)
        if url != account.base_url:
            account.base_url = url
            changed.append("baseUrl")
    if poll_interval_seconds is not UNSET and poll_interval_seconds != account.poll_interval_seconds:
        account.poll_interval_seconds = poll_interval_seconds
        changed.append("pollIntervalSeconds")
    if time_zone is not UNSET and time_zone != account.time_zone:
        account.time_zone = time_zone
        changed.append("timeZone")
    if credentials is not UNSET:
        _wrap_credentials(account, _checked_credentials(_vendor(account.kind), credentials))
        changed.append("credentials")
    now = timezone.now()
    if enabled is False and account.status != IntegrationAccountStatus.DISABLED:
        account.status = IntegrationAccountStatus.DISABLED
        account.next_attempt_at = None
        changed.append("enabled")
    elif enabled is True and account.status == IntegrationAccountStatus.DISABLED:
        _reset_to_ok(account, now)
        changed.append("enabled")
    if {"credentials", "baseUrl"} & set(changed) and account.status in (
        IntegrationAccountStatus.NEEDS_REAUTH,
        IntegrationAccountStatus.BACKING_OFF,
    ):
        _reset_to_ok(account, now)  # what failed may be what was just fixed: try at once
    if not changed:
        return account
    account.last_modified_by = actor
    account.full_clean()
    account.save()
    event_append(
        event_name="integration_account.updated",
        actor=actor,
        property_id=account.property_id,
        payload=_payload(account, changed=changed, status=account.status),
    )
    return account


def _reset_to_ok(account: IntegrationAccount, now) -> None:
    account.status = IntegrationAccountStatus.OK
    account.consecutive_failures = 0
    account.next_attempt_at = now


@transaction.atomic
def integration_account_delete(*, account: IntegrationAccount, actor: str) -> None:
    """Unlink a remote account (event `integration_account.deleted`): its credentials, runs and
    links (ExternalRefs) go; the Keyhouse users, groups and locks it brought in stay, unlinked."""
    account = IntegrationAccount.objects.select_for_update().get(pk=account.pk)
    links = ExternalRef.objects.filter(account_id=account.pk)
    link_count = links.count()
    payload = _payload(account, unlinked=link_count)
    property_id = account.property_id
    links.delete()
    account.delete()
    event_append(event_name="integration_account.deleted", actor=actor, property_id=property_id, payload=payload)
