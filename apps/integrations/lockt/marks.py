"""Groups and locks marked "for Lockt": marking (services) and their push (docs/INTEGRATIONS.md
"Lockt push").

A manager marks a Keyhouse-owned custom group, or a Keyhouse lock, for one of the property's
Lockt accounts (`lockt_mark_set`): a `LocktMark` row, pending, like a `SmartphoneKeyPush`. The
account's next poll pushes it, after the reconciliation and before the users' push:

- a lock → `POST /door` (its name), linked `fromInternalToExternal`; Lockt has no door update,
  so a renamed lock is deleted and created again (its levels follow: their door ids changed);
- a group → an access level whose (door, schedule) pairs are the group's access-list entries on
  areas whose locks Lockt knows (Lockt-owned doors, or locks pushed here). Lockt has no level
  update either: a changed group (name, entries, schedules) is `DELETE /accesslevel` then
  `POST /accesslevel`, and the users' push that follows re-sends its members' `accesslevels`
  (the new id). Lockt has no schedule write API: an entry whose schedule Lockt lacks fails
  the group's mark, naming the schedule; the poll goes on;
- unmarked (or the object deleted) → `DELETE /door` / `DELETE /accesslevel`, unlinked.

Idempotent: a mark keeps the digest of what it last pushed; unchanged (and still listed by
Lockt) → nothing sent, nothing written.
"""

import logging

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from apps.access.models import Schedule, UserGroup, UserGroupGroupType
from apps.access.schedules import Schedule as WeeklySchedule
from apps.access.schedules import Window, windows_from_json
from apps.areas.models import Area, AreaAreaType
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError
from apps.core.models import ExternalRef
from apps.events.services import event_append
from apps.integrations.choices import IntegrationAccountKind, IntegrationAccountStatus
from apps.integrations.http import Transient
from apps.integrations.lockt import mapping, schedules
from apps.integrations.lockt.client import LocktBatchFailed, LocktClient
from apps.integrations.lockt.sync_records import (
    FROM_KEYHOUSE,
    FROM_LOCKT,
    KINDS,
    SOURCE,
    RecordFailed,
    _link_create,
    _unlink,
)
from apps.integrations.mapping import LossyMappingError
from apps.integrations.models import IntegrationAccount, LocktMark, LocktMarkState
from apps.locks.models import Lock

logger = logging.getLogger("keyhouse.integrations.lockt")

ALWAYS = WeeklySchedule(windows=(Window(frozenset(range(7)), 0, 24 * 3600),))


def _payload(mark: LocktMark) -> dict:
    target = mark.group if mark.group_id else mark.lock
    return {
        "accountId": str(mark.account_id),
        "kind": mark.kind,
        "objectId": str(target.pk),
        "name": target.display_name,
        "externalId": mark.external_id or None,
    }


def _lockt_owned(obj) -> bool:
    return ExternalRef.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        source=SOURCE,
        sync_direction=FROM_LOCKT,
    ).exists()


def _refuse(field: str, message: str):
    raise ApplicationError(f"{field}: {message}", fields={field: [message]})


def lockt_mark_check(*, account: IntegrationAccount, group: UserGroup | None = None, lock: Lock | None = None):
    """Refuse what cannot be marked, naming the field (`groupId` / `lockId`)."""
    if account.kind != IntegrationAccountKind.LOCKT:
        _refuse("accountId", f"{account.display_name} is not a Lockt account.")
    if (group is None) == (lock is None):
        _refuse("groupId", "Mark one group or one lock.")
    field, target = ("groupId", group) if group is not None else ("lockId", lock)
    if target.property_id != account.property_id:
        _refuse(field, f"{target.display_name} is not in {account.property.display_name}.")
    if target.type_state == EntityTypeState.DELETED:
        _refuse(field, f"{target.display_name} is deleted.")
    if _lockt_owned(target):
        _refuse(field, f"{target.display_name} comes from Lockt: Lockt owns it, there is nothing to push.")
    if group is not None and group.group_type == UserGroupGroupType.RESIDENT:
        _refuse(field, f"{group.display_name} is a resident group: only custom groups can be marked.")


@transaction.atomic
def lockt_mark_set(
    *, account: IntegrationAccount, group: UserGroup | None = None, lock: Lock | None = None, actor: str
) -> LocktMark:
    """Mark a Keyhouse group or lock for a Lockt account (event `lockt_mark.set`) and request a
    poll, whose push sends it. Marking again is a no-op; marking again while removing keeps it."""
    from apps.integrations.services import integration_account_poll_request

    lockt_mark_check(account=account, group=group, lock=lock)
    mark = LocktMark.objects.select_for_update().filter(account=account, group=group, lock=lock).first()
    if mark is not None and mark.state != LocktMarkState.REMOVING:
        return mark
    if mark is None:
        mark = LocktMark(account=account, group=group, lock=lock, marked_at=timezone.now())
    mark.state, mark.reason, mark.digest = LocktMarkState.PENDING, "", ""
    mark.full_clean()
    mark.save()
    event_append(event_name="lockt_mark.set", actor=actor, property_id=account.property_id, payload=_payload(mark))
    if account.status != IntegrationAccountStatus.DISABLED:
        integration_account_poll_request(account=account, actor=actor)
    return mark


@transaction.atomic
def lockt_mark_clear(*, mark: LocktMark, actor: str) -> LocktMark | None:
    """Unmark (event `lockt_mark.cleared`): never pushed → gone now; pushed → `removing` until
    the next poll deletes Lockt's copy. Returns the mark, or None when it is gone."""
    from apps.integrations.services import integration_account_poll_request

    mark = LocktMark.objects.select_for_update(of=("self",)).select_related("account", "group", "lock").get(pk=mark.pk)
    event_append(
        event_name="lockt_mark.cleared", actor=actor, property_id=mark.account.property_id, payload=_payload(mark)
    )
    if not mark.external_id:
        mark.delete()
        return None
    if mark.state != LocktMarkState.REMOVING:
        mark.state = LocktMarkState.REMOVING
        mark.save(update_fields=["state"])
        if mark.account.status != IntegrationAccountStatus.DISABLED:
            integration_account_poll_request(account=mark.account, actor=actor)
    return mark


# --- push results (the poll's writes, one transaction each) -------------------------------------------


@transaction.atomic
def lockt_mark_pushed(*, sync, mark: LocktMark, external_id: str, digest: str) -> None:
    """Lockt took the object (event `lockt_mark.pushed`): its id, the digest, a link
    `fromInternalToExternal` (so the poll leaves it alone)."""
    kind = mark.kind
    if mark.external_id and mark.external_id != external_id:
        _unlink(sync.account, sync.state, kind, mark.external_id)
    if (kind, external_id) not in sync.state.links:
        _link_create(sync.account, sync.state, kind, external_id, mark.group or mark.lock, FROM_KEYHOUSE)
    mark.state, mark.external_id, mark.digest, mark.reason = LocktMarkState.PUSHED, external_id, digest, ""
    mark.pushed_at = timezone.now()
    mark.save(update_fields=["state", "external_id", "digest", "reason", "pushed_at"])
    event_append(
        event_name="lockt_mark.pushed", actor=sync.actor, property_id=sync.account.property_id, payload=_payload(mark)
    )


@transaction.atomic
def lockt_mark_detached(*, sync, mark: LocktMark) -> None:
    """Lockt's copy was deleted (to be created again, or because Lockt lost it): unlinked."""
    if mark.external_id:
        _unlink(sync.account, sync.state, mark.kind, mark.external_id)
    mark.external_id, mark.digest = "", ""
    mark.save(update_fields=["external_id", "digest"])


@transaction.atomic
def lockt_mark_fail(*, sync, mark: LocktMark, reason: str) -> bool:
    """The push failed (event `lockt_mark.failed` when the reason is new); it is tried again at
    the next poll. Returns True if written."""
    if mark.state == LocktMarkState.FAILED and mark.reason == reason:
        return False
    mark.state, mark.reason, mark.digest = LocktMarkState.FAILED, reason, ""
    mark.save(update_fields=["state", "reason", "digest"])
    logger.warning("lockt account %s: %s %s not pushed: %s", sync.account.pk, mark.kind, mark.pk, reason)
    event_append(
        event_name="lockt_mark.failed",
        actor=sync.actor,
        property_id=sync.account.property_id,
        payload={**_payload(mark), "reason": reason},
    )
    return True


@transaction.atomic
def lockt_mark_removed(*, sync, mark: LocktMark) -> None:
    """Unmarked, and Lockt's copy deleted: the mark and its link go (event `lockt_mark.removed`)."""
    event_append(
        event_name="lockt_mark.removed", actor=sync.actor, property_id=sync.account.property_id, payload=_payload(mark)
    )
    if mark.external_id:
        _unlink(sync.account, sync.state, mark.kind, mark.external_id)
    mark.delete()


# --- the push -------------------------------------------------------------------------------------


def _by_id(records: list) -> dict[str, dict]:
    return {str(r["id"]): r for r in records if isinstance(r, dict) and str(r.get("id", "")).isdigit()}


def _messages(exc: LocktBatchFailed) -> str:
    return "; ".join(m for error in exc.errors for m in error.messages) or " ".join(exc.result)


class LocktMarksPush:
    """The push of one account's marks, within its poll (`lockt_poll`): locks first (a group's
    doors need their ids), then groups. The users' push runs after it."""

    def __init__(self, sync, client: LocktClient, *, schedules: list, doors: list, levels: list):
        self.sync, self.client = sync, client
        self.state = sync.state
        self.remote_schedules = _by_id(schedules)
        self.remote_doors = _by_id(doors)
        self.remote_levels = _by_id(levels)

    def run(self) -> None:
        marks = list(
            LocktMark.objects.filter(account=self.sync.account).select_related("group", "lock").order_by("marked_at")
        )
        for mark in marks:
            if mark.lock_id:
                self._push(mark, "door", self.remote_doors, self._door)
        group_marks = [mark for mark in marks if mark.group_id]
        if group_marks:
            self._entries = self._group_entries()
            for mark in group_marks:
                self._push(mark, "accesslevel", self.remote_levels, self._level)

    def _push(self, mark: LocktMark, node: str, remote: dict, desired_of) -> None:
        target = mark.group or mark.lock
        listed = mark.external_id in remote
        if mark.state == LocktMarkState.REMOVING or target.type_state == EntityTypeState.DELETED:
            self._delete(mark, node, listed, then=lockt_mark_removed)
            return
        try:
            desired = desired_of(mark)
        except RecordFailed as exc:
            self._fail(mark, f"{exc.field}: {exc.reason}")
            return
        digest = mapping.record_digest(desired)
        if mark.state == LocktMarkState.PUSHED and mark.digest == digest and listed:
            self.sync._count("unchanged")
            return
        if mark.external_id and not self._delete(mark, node, listed, then=lockt_mark_detached):
            return  # Lockt has no update: the old copy goes first
        try:
            try:
                (self.client.doors_create if node == "door" else self.client.access_levels_create)([desired])
            except Transient:
                # §10.6: a write that timed out may have happened; look before the poll fails,
                # else the next poll would take Lockt's copy for a new Lockt-owned one.
                if self._find(node, desired["name"]) is None:
                    raise
            found = self._find(node, desired["name"])
        except LocktBatchFailed as exc:
            self._fail(mark, f"Lockt refused it: {_messages(exc)}")
            return
        if found is None or not str(found.get("id", "")).isdigit():
            self._fail(mark, f"Lockt did not keep {desired['name']}")
            return
        lockt_mark_pushed(sync=self.sync, mark=mark, external_id=str(found["id"]), digest=digest)
        remote[str(found["id"])] = found
        self.sync._count("created")

    def _find(self, node: str, name: str) -> dict | None:
        """Lockt's door or level of that name (Lockt names both uniquely; a write answers no id)."""
        if node == "door":
            return next((d for d in self.client.doors() if d.get("name") == name), None)
        return self.client.access_level_by_name(name)

    def _delete(self, mark: LocktMark, node: str, listed: bool, *, then) -> bool:
        if listed:
            try:
                if node == "door":
                    self.client.doors_delete([int(mark.external_id)])
                else:
                    self.client.access_levels_delete([int(mark.external_id)])
            except LocktBatchFailed as exc:
                self._fail(mark, f"Lockt refused to delete it: {_messages(exc)}")
                return False
        then(sync=self.sync, mark=mark)
        self.sync._count("updated")
        return True

    def _fail(self, mark: LocktMark, reason: str) -> None:
        lockt_mark_fail(sync=self.sync, mark=mark, reason=reason)
        self.sync._count("failed")

    # desired records ---------------------------------------------------------------------------

    @staticmethod
    def _door(mark: LocktMark) -> dict:
        return {"name": mark.lock.display_name}

    def _group_entries(self) -> dict[str, list[tuple[Lock, str | None]]]:
        """Group id → (lock Lockt knows, schedule id or None) of its access-list entries, as
        access computes them (apps/access/compute.py): an area's own `group` entries, and its
        ancestors' when the area is common or the group is staff."""
        door_of = {
            link.object_id: int(external_id)
            for (kind, external_id), link in self.state.links.items()
            if kind == KINDS.LOCK and external_id.isdigit()
        }
        self.door_of = door_of
        locks: dict = {}
        for lock in Lock.objects.filter(pk__in=door_of, area__isnull=False).exclude(type_state=EntityTypeState.DELETED):
            locks.setdefault(lock.area_id, []).append(lock)
        if not locks:
            return {}
        prop = self.sync.prop
        areas = {
            area.pk: area
            for area in Area.objects.alive().filter(property=prop).only("id", "parent_id", "area_type", "access_list")
        }
        staff = {
            str(pk)
            for pk in UserGroup.objects.filter(property=prop, group_type=UserGroupGroupType.STAFF).values_list(
                "pk", flat=True
            )
        }

        def own(area) -> list[tuple[str, str | None]]:
            return [
                (str(e["userGroupId"]), e.get("scheduleId"))
                for e in area.access_list
                if e.get("accessType") == "group" and e.get("userGroupId")
            ]

        entries: dict = {}
        for area_id, area_locks in locks.items():
            area = areas.get(area_id)
            if area is None:
                continue
            lines, parent, seen = own(area), area.parent_id, {area_id}
            while parent in areas and parent not in seen:
                seen.add(parent)
                lines += [
                    (group_id, schedule_id)
                    for group_id, schedule_id in own(areas[parent])
                    if group_id in staff or area.area_type == AreaAreaType.COMMON
                ]
                parent = areas[parent].parent_id
            for group_id, schedule_id in lines:
                for lock in area_locks:
                    entries.setdefault(group_id, []).append((lock, schedule_id))
        return entries

    def _level(self, mark: LocktMark) -> dict:
        pairs: dict[int, int] = {}
        group_entries = sorted(self._entries.get(str(mark.group_id), []), key=lambda e: (e[0].display_name, str(e[1])))
        schedule_rows = {str(s.pk): s for s in Schedule.objects.filter(pk__in=[sid for _, sid in group_entries if sid])}
        for lock, schedule_id in group_entries:
            lockt_schedule = self._lockt_schedule(schedule_rows.get(str(schedule_id)) if schedule_id else None)
            door = self.door_of[lock.pk]
            if door in pairs and pairs[door] != lockt_schedule:
                raise RecordFailed(
                    "accessList",
                    lock.display_name,
                    f"{lock.display_name} has two schedules for this group; a Lockt access level "
                    "gives a door one schedule",
                )
            pairs[door] = lockt_schedule
        doors = [{"id": door, "schedule_id": pairs[door]} for door in sorted(pairs)]
        return {"name": mark.group.display_name, "doors": doors}

    def _lockt_schedule(self, schedule: Schedule | None) -> int:
        """The Lockt schedule with the same weekly window (a Lockt-owned schedule: its own id);
        Lockt cannot be given a schedule, so one it lacks fails the group, naming it."""
        if schedule is not None:
            for (kind, external_id), link in self.state.links.items():
                if kind == KINDS.SCHEDULE and link.object_id == schedule.pk and external_id in self.remote_schedules:
                    return int(external_id)
        name = schedule.display_name if schedule is not None else "Always (no schedule)"
        weekly = ALWAYS
        if schedule is not None:
            weekly = WeeklySchedule(
                windows=windows_from_json(schedule.windows),
                valid_from=schedule.valid_from,
                valid_until=schedule.valid_until,
            )
        try:
            wanted = schedules.to_lockt(weekly, name="")
        except LossyMappingError as exc:
            raise RecordFailed("scheduleId", name, f'schedule "{name}" cannot be a Lockt schedule: {exc}') from None
        wanted.pop("name")
        for external_id, remote in sorted(self.remote_schedules.items()):
            if all(str(remote.get(key)) == str(value) for key, value in wanted.items()):
                return int(external_id)
        raise RecordFailed(
            "scheduleId",
            name,
            f'Lockt has no schedule like "{name}" ({wanted["start"]}–{wanted["stop"]}); Lockt schedules '
            "cannot be written through its API: add one in Lockt, then poll again",
        )
