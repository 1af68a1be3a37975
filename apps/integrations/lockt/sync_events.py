"""Lockt events (48/49) → access logs behind the account's high-water mark
(docs/INTEGRATIONS.md "Lockt sync")."""

from django.db import transaction
from django.utils import timezone

from apps.events.services import event_append
from apps.integrations.lockt import mapping
from apps.integrations.lockt.sync_records import KINDS, SOURCE, actor_of, logger
from apps.integrations.mapping import MappingError
from apps.integrations.models import IntegrationAccount, LocktEventMark
from apps.locks import services as lock_services


class EventsSync:
    """Events of `LocktSync` (a mixin)."""

    # events -------------------------------------------------------------------------------------------------

    def events_apply(self, records: list[dict]) -> None:
        if not records:
            return
        by_name = {}
        for door_id, values in self.doors.items():
            lock_id = self._object_id(KINDS.LOCK, str(door_id))
            if lock_id is not None and lock_id in self.locks:
                by_name.setdefault(values.display_name, self.locks[lock_id])
        logs: dict = {}
        highest = 0
        for record in records:
            try:
                highest = max(highest, int(record.get("id")))
            except (TypeError, ValueError):
                continue
            try:
                values = mapping.access_log_from_lockt(record, site_tz=self.site_tz)
            except MappingError as exc:
                logger.warning("lockt account %s: event %s skipped: %s", self.account.pk, record.get("id"), exc)
                self._count("failed")
                continue
            lock = by_name.get(values.door_name)
            if values.outcome is None or lock is None:
                self._count("unchanged")  # not an access on a door of this account: nothing to keep
                continue
            logs.setdefault(lock.pk, (lock, []))[1].append(
                {
                    "sequence": values.external_id,
                    "access_date": values.occurred_at,
                    "result": values.outcome,
                    "reason": f"lockt:{values.code}" + (f":{values.subcode}" if values.subcode else ""),
                }
            )
        stored = lockt_events_import(account=self.account, logs=list(logs.values()), high_water=highest)
        self.counts.created += stored


@transaction.atomic
def lockt_events_import(*, account: IntegrationAccount, logs: list, high_water: int) -> int:
    """Store the events' access logs and move the account's high-water mark, together (event
    `lockt_events.imported`), so each event is imported once per account."""
    mark = LocktEventMark.objects.select_for_update().filter(account=account).first()
    if mark is not None and high_water <= mark.last_event_id:
        return 0
    stored = 0
    for lock, items in logs:
        fresh = [item for item in items if mark is None or item["sequence"] > mark.last_event_id]
        stored += lock_services.lock_access_logs_import(lock=lock, logs=fresh, source=SOURCE, actor=actor_of(account))
    now = timezone.now()
    if mark is None:
        LocktEventMark.objects.create(account=account, last_event_id=high_water, updated_at=now)
    else:
        LocktEventMark.objects.filter(pk=mark.pk).update(last_event_id=high_water, updated_at=now)
    event_append(
        event_name="lockt_events.imported",
        actor=actor_of(account),
        property_id=account.property_id,
        payload={"accountId": str(account.pk), "lastEventId": high_water, "accessLogs": stored},
    )
    return stored


def lockt_event_mark(account: IntegrationAccount) -> int | None:
    mark = LocktEventMark.objects.filter(account=account).first()
    return None if mark is None else mark.last_event_id
