"""Grant events -> pending SmartphoneKey pushes, and the account's run asked for after commit."""

import logging
from functools import partial

from django.db import transaction

from apps.access.models import AccessGrant
from apps.events.registry import event_handler
from apps.integrations.smartphonekey import push

logger = logging.getLogger("keyhouse.integrations.smartphonekey")


def _enqueue(account_id) -> None:
    from apps.integrations import tasks

    try:
        tasks.integration_account_poll.apply_async(args=[str(account_id), "grant change"])
    except Exception:  # noqa: BLE001 - the pending push waits for the account's next scheduled run
        logger.warning("could not enqueue the SmartphoneKey push of account %s", account_id, exc_info=True)


def _grant_changed(event, reason: str) -> None:
    grant_id = (event.payload or {}).get("grantId")
    grant = AccessGrant.objects.select_related("lock").filter(pk=grant_id).first() if grant_id else None
    if grant is None:
        return
    for account in push.push_targets(grant):
        push.smartphonekey_push_queue(grant=grant, account=account, reason=reason)
        transaction.on_commit(partial(_enqueue, account.pk))


@event_handler("grant.created")
def on_grant_created(event) -> None:
    _grant_changed(event, "created")


@event_handler("grant.revoked")
def on_grant_revoked(event) -> None:
    _grant_changed(event, "revoked")


@event_handler("grant.expired")
def on_grant_expired(event) -> None:
    _grant_changed(event, "expired")
