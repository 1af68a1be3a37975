"""A ParqEx account's failing polls make its doors' health `stale` (not offline); a good poll clears it."""

from apps.events.registry import event_handler
from apps.integrations.models import ParqExDoor
from apps.locks.services import lock_health_stale_set


@event_handler("sync_run.finished")
def on_sync_run_finished(event) -> None:
    payload = event.payload or {}
    account_id, status = payload.get("accountId"), payload.get("status")
    if not account_id or status not in ("succeeded", "failed"):
        return
    lock_ids = list(ParqExDoor.objects.filter(account_id=account_id).values_list("lock_id", flat=True))
    if lock_ids:
        lock_health_stale_set(lock_ids=lock_ids, stale=status == "failed", actor="system")
