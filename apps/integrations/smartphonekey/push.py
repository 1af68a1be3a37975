"""Native grants pushed to SmartphoneKey (docs/INTEGRATIONS.md "SmartphoneKey push").

A grant on a lock whose user and lock both have `smartphonekey` links in an account is a
*target* of that account. Grant events (`grant.created`, `grant.revoked`, `grant.expired`)
mark its push `pending` (handlers.py) and ask for the account's run after commit; the run
(the vendor's poll function) sends every pending push: `pushed` with the remote version, or
`failed` with the reason. Revocation and expiry send `validUntil` = now (no removal call).
"""

import logging

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from apps.access.models import AccessGrant
from apps.access.schedules import ALWAYS, Schedule, timestamp_to_json
from apps.accounts.models import User
from apps.core.models import ExternalRef
from apps.events.services import event_append
from apps.integrations.choices import IntegrationAccountKind, IntegrationAccountStatus
from apps.integrations.http import HttpClient, RemoteError
from apps.integrations.mapping import LossyMappingError
from apps.integrations.models import IntegrationAccount, SmartphoneKeyPush, SmartphoneKeyPushState
from apps.integrations.registry import PollContext
from apps.integrations.smartphonekey.client import SmartphoneKeyClient
from apps.integrations.smartphonekey.validity import to_smartphonekey
from apps.locks.models import Lock

logger = logging.getLogger("keyhouse.integrations.smartphonekey")

SOURCE = "smartphonekey"


def _links(account_id, model, object_ids) -> dict:
    rows = ExternalRef.objects.filter(
        account_id=account_id,
        source=SOURCE,
        content_type=ContentType.objects.get_for_model(model),
        object_id__in=object_ids,
    )
    return {row.object_id: row.external_id for row in rows}


def push_targets(grant: AccessGrant) -> list[IntegrationAccount]:
    """The SmartphoneKey accounts of the grant's property linking both its user and its lock."""
    if grant.lock_id is None:
        return []  # area grants are not pushed (SmartphoneKey grants one lock)
    accounts = list(
        IntegrationAccount.objects.filter(
            property_id=grant.property_id, kind=IntegrationAccountKind.SMARTPHONEKEY
        ).exclude(status=IntegrationAccountStatus.DISABLED)
    )
    return [
        account
        for account in accounts
        if _links(account.pk, User, [grant.user_id]) and _links(account.pk, Lock, [grant.lock_id])
    ]


@transaction.atomic
def smartphonekey_push_queue(*, grant: AccessGrant, account: IntegrationAccount, reason: str) -> SmartphoneKeyPush:
    """Mark the grant's push to `account` pending (event `smartphonekey_push.queued`)."""
    push, _ = SmartphoneKeyPush.objects.select_for_update().get_or_create(
        grant=grant, account=account, defaults={"queued_at": timezone.now()}
    )
    push.state, push.reason, push.queued_at = SmartphoneKeyPushState.PENDING, "", timezone.now()
    push.save(update_fields=["state", "reason", "queued_at"])
    event_append(
        event_name="smartphonekey_push.queued",
        actor="system",
        property_id=grant.property_id,
        user_id=grant.user_id,
        lock_id=grant.lock_id,
        payload={"grantId": str(grant.pk), "accountId": str(account.pk), "because": reason},
    )
    return push


@transaction.atomic
def _push_close(push: SmartphoneKeyPush, *, state: str, reason: str = "", version=None, valid_until=None) -> None:
    push.state, push.reason = state, reason[:2000]
    fields = ["state", "reason"]
    if state == SmartphoneKeyPushState.PUSHED:
        push.remote_version, push.pushed_at, push.sent_valid_until = version, timezone.now(), valid_until
        fields += ["remote_version", "pushed_at", "sent_valid_until"]
    push.save(update_fields=fields)
    refs = {
        "actor": "system",
        "property_id": push.grant.property_id,
        "user_id": push.grant.user_id,
        "lock_id": push.grant.lock_id,
        "payload": {
            "grantId": str(push.grant_id),
            "accountId": str(push.account_id),
            **({"version": version} if version is not None else {}),
            **({"reason": push.reason} if reason else {}),
        },
    }
    if state == SmartphoneKeyPushState.PUSHED:
        event_append(event_name="smartphonekey_push.pushed", **refs)
    else:
        event_append(event_name="smartphonekey_push.failed", **refs)


def grant_body(grant: AccessGrant, *, lock_external_id: str, now) -> dict:
    """The AddAccessibleLock body for the grant; LossyMappingError naming what would be lost."""
    ended = grant_ended(grant, now)
    validity = to_smartphonekey(
        Schedule(windows=grant_windows(grant), valid_from=_ms(grant.valid_from), valid_until=_ms(grant.valid_until))
    )
    if ended:
        validity["validUntil"] = timestamp_to_json(_ms(now))
    return {
        "lockId": lock_external_id,
        "lockName": grant.lock.display_name,
        "accessLevel": grant.access_level,
        **validity,
        "grantedBy": grant.granted_by,
    }


def _ms(value):
    """Whole milliseconds: the Keyhouse timestamp form SmartphoneKey is sent (validity.py)."""
    return None if value is None else value.replace(microsecond=value.microsecond // 1000 * 1000)


def grant_ended(grant: AccessGrant, now) -> bool:
    """Revoked, expired, or past its validUntil: pushed as `validUntil` = now."""
    return (
        grant.revoked_at is not None
        or grant.expired_at is not None
        or (grant.valid_until is not None and grant.valid_until <= now)
    )


def grant_windows(grant: AccessGrant) -> tuple:
    """The weekly windows a grant carries: native door grants hold validity only, so always
    (ALWAYS,); a grant with weekly windows would be refused by `to_smartphonekey` by name."""
    return getattr(grant, "windows", None) or (ALWAYS,)


def smartphonekey_push_run(context: PollContext) -> None:
    """Send the account's pending pushes (the vendor's poll function)."""
    account = context.account
    pending = list(
        SmartphoneKeyPush.objects.filter(account=account, state=SmartphoneKeyPushState.PENDING)
        .select_related("grant", "grant__lock")
        .order_by("queued_at")
    )
    if not pending:
        return
    users = _links(account.pk, User, {p.grant.user_id for p in pending})
    locks = _links(account.pk, Lock, {p.grant.lock_id for p in pending})
    http: HttpClient = context.http
    client = SmartphoneKeyClient(http, api_key=context.credentials["api_key"])
    pushed = failed = 0
    try:
        for push in pending:
            grant, now = push.grant, timezone.now()
            if grant.user_id not in users or grant.lock_id not in locks:
                _push_close(
                    push,
                    state=SmartphoneKeyPushState.FAILED,
                    reason="The user or the lock has no SmartphoneKey link in this account.",
                )
                failed += 1
                continue
            try:
                body = grant_body(grant, lock_external_id=locks[grant.lock_id], now=now)
            except (LossyMappingError, ValueError) as exc:
                _push_close(push, state=SmartphoneKeyPushState.FAILED, reason=f"Not pushed: {exc}")
                failed += 1
                continue
            try:
                answer = client.add_accessible_lock(users[grant.user_id], body)
            except RemoteError as exc:
                remote = exc.body.get("error") if isinstance(exc.body, dict) else None
                _push_close(push, state=SmartphoneKeyPushState.FAILED, reason=f"{exc}{f': {remote}' if remote else ''}")
                failed += 1
                continue
            _push_close(
                push,
                state=SmartphoneKeyPushState.PUSHED,
                version=answer["version"],
                valid_until=now if grant_ended(grant, now) else grant.valid_until,
            )
            pushed += 1
    finally:
        client.close()
        context.progress(fetched=len(pending), updated=pushed, failed=failed)
