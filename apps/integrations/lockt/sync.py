"""The Lockt poll: Lockt records → Keyhouse objects through the domain services
(docs/INTEGRATIONS.md "Lockt sync").

Everything is read first (schedules, doors, access levels, users, events), so a transport
failure raises before any write and never deletes anything. Then, in dependency order, each
record is *reconciled*: what Keyhouse should hold (from lockt/mapping.py) is compared with what
it holds (read in bulk once per poll), and only a difference is written, through the services
of access, accounts and locks (one transaction per record, with its events), so derived access
and key maps follow as for any other write. An unchanged poll therefore writes nothing here;
a local edit of a Lockt-owned copy is a difference and is overwritten (the owner wins).

- schedule → a property Schedule (one weekly window);
- door → a lock, installed in its own common area of the account's property;
- access level → a custom user group; each (door, schedule) of a level → an access-list entry
  `group` + `scheduleId` on the door's area (entries naming other groups are kept);
- user → a person (first link by `id_num` = Keyhouse user id, then email; never a duplicate),
  `enabled=false` → blocked at the property, memberships = its levels while its
  `access_effective`/`access_expires` window holds;
- event 48/49 → an access log on the door's lock, once per (account, event id) behind the
  account's high-water mark.

A record that cannot be taken (bad email, unknown level, impossible schedule, fob-shaped user,
duplicate `id_num` …) fails alone: its `LocktRecord` (and its link, if any) says `failed` with
field, value and reason; the Keyhouse object keeps its last good state. A Lockt-owned object
no longer listed is removed here and its access revoked.
"""

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.access import services as access_services
from apps.access.models import AccessBlock, AccessGrant, Membership, Schedule, UserGroup, UserGroupGroupType
from apps.access.schedules import windows_to_json
from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.areas.models import Area, AreaAreaType
from apps.core.choices import EntityTypeState, ExternalRefSyncDirection, ExternalRefSyncStatus
from apps.core.exceptions import ApplicationError
from apps.core.models import ExternalRef
from apps.events.services import event_append
from apps.integrations.lockt import mapping
from apps.integrations.mapping import MappingError
from apps.integrations.models import IntegrationAccount, LocktEventMark, LocktRecord, LocktRecordKind
from apps.locks import services as lock_services
from apps.locks.models import Lock, LockHealth

logger = logging.getLogger("keyhouse.integrations.lockt")

SOURCE = "lockt"
KINDS = LocktRecordKind
FROM_LOCKT = ExternalRefSyncDirection.FROM_EXTERNAL_TO_INTERNAL
FROM_KEYHOUSE = ExternalRefSyncDirection.FROM_INTERNAL_TO_EXTERNAL
VALUE_SHOWN_MAX = 300


def actor_of(account: IntegrationAccount) -> str:
    return f"lockt:{account.display_name}"[:120]


class RecordFailed(Exception):
    """A record that cannot be applied: field, value (as shown) and reason."""

    def __init__(self, field: str, value, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.value, self.reason = field, value, reason

    @classmethod
    def of(cls, error: MappingError) -> "RecordFailed":
        """The mapping's refusal, its value shown as the mapping shows it (card numbers and PINs hidden)."""
        leaf = error.field.rsplit(".", 1)[-1].split("[", 1)[0]
        hidden = leaf in MappingError.SENSITIVE_FIELDS
        shown = f"<{len(str(error.value))} characters, hidden>" if hidden else repr(error.value)
        return cls(error.field, shown, error.reason)


@dataclass
class Counts:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class State:
    """What Keyhouse holds for one account, read in bulk once per poll."""

    records: dict = field(default_factory=dict)  # (kind, external id) → LocktRecord
    links: dict = field(default_factory=dict)  # (kind, external id) → ExternalRef
    content_types: dict = field(default_factory=dict)  # kind → ContentType


KIND_MODELS = {KINDS.SCHEDULE: Schedule, KINDS.LOCK: Lock, KINDS.GROUP: UserGroup, KINDS.USER: User}
AREA_KIND = "area"  # a door's area is linked too (content type Area, the door's id)
PENDING_PREFIX = "keyhouse:"  # the record of a Keyhouse person not (yet) in Lockt: "keyhouse:<user id>"
GRANT_KIND = "grant"  # a delegate's grant: "<delegate id>:<user id>:<door id>"


def _state(account: IntegrationAccount) -> State:
    state = State()
    state.content_types = {kind: ContentType.objects.get_for_model(model) for kind, model in KIND_MODELS.items()}
    state.content_types[AREA_KIND] = ContentType.objects.get_for_model(Area)
    state.content_types[GRANT_KIND] = ContentType.objects.get_for_model(AccessGrant)
    kind_of = {ct.pk: kind for kind, ct in state.content_types.items()}
    for link in ExternalRef.objects.filter(account_id=account.pk, source=SOURCE):
        kind = kind_of.get(link.content_type_id)
        if kind:
            state.links[kind, link.external_id] = link
    for record in LocktRecord.objects.filter(account=account):
        state.records[record.kind, record.external_id] = record
    return state


# --- link and record writes (inside the record's transaction) -----------------------------------


def _link_create(account, state: State, kind: str, external_id: str, obj, direction=FROM_LOCKT) -> ExternalRef:
    link = ExternalRef.objects.create(
        content_type=state.content_types[kind],
        object_id=obj.pk,
        source=SOURCE,
        account_id=account.pk,
        external_id=external_id,
        sync_direction=direction,
        sync_status=ExternalRefSyncStatus.SYNCED,
        last_sync_date=timezone.now(),
    )
    state.links[kind, external_id] = link
    if kind in KINDS.values:  # an area's or a grant's own events say enough
        event_append(
            event_name="lockt_record.linked",
            actor=actor_of(account),
            property_id=account.property_id,
            payload={"accountId": str(account.pk), "kind": kind, "externalId": external_id, "objectId": str(obj.pk)},
        )
    return link


def _record_ok(account, state: State, kind: str, external_id: str, *, digest: str, label: str, created_here=None):
    """The record applied: its digest, status synced (written only when something differs)."""
    record = state.records.get((kind, external_id))
    link = state.links.get((kind, external_id))
    if link is not None and link.sync_status != ExternalRefSyncStatus.SYNCED:
        ExternalRef.objects.filter(pk=link.pk).update(sync_status=ExternalRefSyncStatus.SYNCED)
        link.sync_status = ExternalRefSyncStatus.SYNCED
    wanted = {
        "digest": digest,
        "label": label[:300],
        "status": "synced",
        "error_field": "",
        "error_value": "",
        "error_reason": "",
    }
    if created_here is not None:
        wanted["created_here"] = created_here
    if record is None:
        record = LocktRecord.objects.create(
            account=account, kind=kind, external_id=external_id, updated_at=timezone.now(), **wanted
        )
        state.records[kind, external_id] = record
        return
    if any(getattr(record, name) != value for name, value in wanted.items()):
        for name, value in wanted.items():
            setattr(record, name, value)
        record.updated_at = timezone.now()
        record.save()


@transaction.atomic
def lockt_record_fail(
    *, account: IntegrationAccount, state: State, kind: str, external_id: str, label: str, error: RecordFailed
) -> bool:
    """A record that could not be applied: its record (and link) `failed` with field, value and
    reason (event `lockt_record.failed` when it was not already failed so). Returns True if written."""
    value = "(missing)" if error.value is None else str(error.value)[:VALUE_SHOWN_MAX]
    record = state.records.get((kind, external_id))
    wanted = {"status": "failed", "error_field": error.field[:200], "error_value": value, "error_reason": error.reason}
    if record is not None and all(getattr(record, k) == v for k, v in wanted.items()):
        return False
    if record is None:
        record = LocktRecord(account=account, kind=kind, external_id=external_id, label=label[:300])
        state.records[kind, external_id] = record
    for name, v in wanted.items():
        setattr(record, name, v)
    record.digest = ""  # applied again at the next poll
    record.updated_at = timezone.now()
    record.save()
    link = state.links.get((kind, external_id))
    if link is not None:
        ExternalRef.objects.filter(pk=link.pk).update(sync_status=ExternalRefSyncStatus.FAILED)
        link.sync_status = ExternalRefSyncStatus.FAILED
    logger.warning("lockt account %s: %s %s not applied: %s", account.pk, kind, external_id, error)
    event_append(
        event_name="lockt_record.failed",
        actor=actor_of(account),
        property_id=account.property_id,
        payload={
            "accountId": str(account.pk),
            "kind": kind,
            "externalId": external_id,
            "field": error.field,
            "reason": error.reason,
        },
    )
    return True


def _unlink(account, state: State, kind: str, external_id: str) -> None:
    link = state.links.pop((kind, external_id), None)
    if link is not None:
        link.delete()
    state.records.pop((kind, external_id), None)
    LocktRecord.objects.filter(account=account, kind=kind, external_id=external_id).delete()
    if kind in KINDS.values:
        event_append(
            event_name="lockt_record.unlinked",
            actor=actor_of(account),
            property_id=account.property_id,
            payload={"accountId": str(account.pk), "kind": kind, "externalId": external_id},
        )


# --- the poll ---------------------------------------------------------------------------------------


class LocktSync:
    """One poll of one account (built by `lockt_poll`; tests and the bench may drive it)."""

    def __init__(self, account: IntegrationAccount, *, progress=None, now: dt.datetime | None = None):
        self.account = account
        self.prop = account.property
        self.site_tz = self.prop.time_zone or "UTC"
        self.actor = actor_of(account)
        self.progress = progress
        self.now = now or timezone.now()
        self.state = _state(account)
        self.counts = Counts()
        self._flushed = Counts()

    # counts ----------------------------------------------------------------------------------------

    def _count(self, outcome: str) -> None:
        setattr(self.counts, outcome, getattr(self.counts, outcome) + 1)

    def flush(self, *, final: bool = False) -> None:
        """Save the counts so far on the run; between phases only when something was written."""
        if self.progress is None:
            return
        delta = {k: v - getattr(self._flushed, k) for k, v in self.counts.as_dict().items()}
        if not final and not (delta["created"] or delta["updated"] or delta["failed"]):
            return
        self.progress(**delta)
        self._flushed = Counts(**self.counts.as_dict())

    def _object_id(self, kind: str, external_id: str):
        link = self.state.links.get((kind, external_id))
        return link.object_id if link is not None else None

    def _fail(self, kind: str, external_id: str, label: str, error: RecordFailed) -> None:
        lockt_record_fail(
            account=self.account, state=self.state, kind=kind, external_id=external_id, label=label, error=error
        )
        self._count("failed")

    def _map(self, kind: str, record: dict, fn, index: int):
        """Map one record; a refusal is recorded on it (by its id if it has one)."""
        try:
            return fn(record)
        except MappingError as exc:
            raw = record.get("id") if isinstance(record, dict) else None
            external_id = str(raw) if raw not in (None, "") else f"#{index}"
            label = _label(record)
            self._fail(kind, external_id, label, RecordFailed.of(exc))
            return None

    def batteries_apply(self, records: list[dict]) -> None:
        """`/doorstate` batteries → the locks' health (source `lockt`, percent); a reading the
        mapping refuses is logged and skipped (battery only: it never fails the door)."""
        for record in records:
            try:
                values = mapping.battery_from_lockt(record)
            except MappingError as exc:
                logger.warning("lockt account %s: door state skipped: %s", self.account.pk, exc)
                continue
            lock_id = self._object_id(KINDS.LOCK, str(values.external_id))
            lock = self.locks.get(lock_id) if lock_id else None
            if lock is None:
                continue
            percent = round(values.level * 100)
            if self.health.get(lock.pk) != percent:
                lock_services.lock_health_record(lock=lock, source=SOURCE, actor=self.actor, battery_level=percent)

    def run(self, *, schedules, doors, levels, users, events, door_states=(), delegates=()) -> Counts:
        self.counts.fetched = len(schedules) + len(doors) + len(levels) + len(users) + len(events) + len(delegates)
        self.schedules_apply(schedules)
        self.flush()
        self.doors_apply(doors)
        self.health = dict(
            LockHealth.objects.filter(lock_id__in=list(self.locks), source=SOURCE).values_list(
                "lock_id", "battery_level"
            )
        )
        self.batteries_apply(door_states)
        self.flush()
        self.groups_apply(levels)
        self.access_lists_apply()
        self.flush()
        self.users_apply(users)
        self.delegates_apply(delegates)
        self.flush()
        self.gone_users_remove()
        self.gone_doors_remove()
        self.gone_groups_remove()
        self.gone_schedules_remove()
        self.events_apply(events)
        self.flush(final=True)
        return self.counts

    # schedules -------------------------------------------------------------------------------------

    def schedules_apply(self, records: list[dict]) -> None:
        self.schedules: dict[int, mapping.ScheduleValues] = {}
        self.schedules_seen: set[str] = set()
        for index, record in enumerate(records):
            values = self._map(KINDS.SCHEDULE, record, mapping.schedule_from_lockt, index)
            if isinstance(record, dict) and record.get("id") not in (None, ""):
                self.schedules_seen.add(str(record.get("id")))
            if values is None:
                continue
            self.schedules[values.external_id] = values
            self._reconcile(
                KINDS.SCHEDULE, values.external_id, record, values.display_name, self._schedule_write, values
            )

    def _schedule_write(self, values: mapping.ScheduleValues, existing_id) -> tuple[str, object]:
        name = values.display_name or f"Lockt schedule {values.external_id}"
        windows = windows_to_json(values.schedule.windows)
        if existing_id is None:
            schedule = access_services.schedule_create(
                prop=self.prop, display_name=name, windows=windows, actor=self.actor
            )
            return "created", schedule
        schedule = Schedule.objects.get(pk=existing_id)
        if (schedule.display_name, schedule.windows, schedule.valid_from, schedule.valid_until) == (
            name,
            windows,
            None,
            None,
        ):
            return "unchanged", schedule
        access_services.schedule_update(schedule=schedule, display_name=name, windows=windows, actor=self.actor)
        return "updated", schedule

    # doors -------------------------------------------------------------------------------------------

    def doors_apply(self, records: list[dict]) -> None:
        self.doors: dict[int, mapping.LockValues] = {}
        self.doors_seen: set[str] = set()
        ids = [link.object_id for (kind, _), link in self.state.links.items() if kind == KINDS.LOCK]
        self.locks = {lock.pk: lock for lock in Lock.objects.filter(pk__in=ids).select_related("area")}
        for index, record in enumerate(records):
            if isinstance(record, dict) and record.get("id") not in (None, ""):
                self.doors_seen.add(str(record.get("id")))
            values = self._map(KINDS.LOCK, record, mapping.lock_from_lockt, index)
            if values is None:
                continue
            self.doors[values.external_id] = values
            self._reconcile(KINDS.LOCK, values.external_id, record, values.display_name, self._door_write, values)

    def _door_write(self, values: mapping.LockValues, existing_id) -> tuple[str, object]:
        external_id = str(values.external_id)
        if existing_id is None:
            area = access_services.area_create(
                prop=self.prop, display_name=values.display_name, area_type=AreaAreaType.COMMON, actor=self.actor
            )
            _link_create(self.account, self.state, AREA_KIND, external_id, area)
            lock = lock_services.lock_create(display_name=values.display_name, prop=self.prop, actor=self.actor)
            lock = lock_services.lock_install(lock=lock, area=area, actor=self.actor)
            if not values.enabled:
                lock = lock_services.lock_activity_set(lock=lock, active=False, actor=self.actor)
            self.locks[lock.pk] = lock
            return "created", lock
        lock = self.locks.get(existing_id) or Lock.objects.select_related("area").get(pk=existing_id)
        changed = False
        area_id = self._object_id(AREA_KIND, external_id)
        area = Area.objects.get(pk=area_id) if area_id else None
        if area is None or area.type_state == EntityTypeState.DELETED:
            area = access_services.area_create(
                prop=self.prop, display_name=values.display_name, area_type=AreaAreaType.COMMON, actor=self.actor
            )
            if area_id:
                _unlink(self.account, self.state, AREA_KIND, external_id)
            _link_create(self.account, self.state, AREA_KIND, external_id, area)
            changed = True
        elif area.display_name != values.display_name:
            access_services.area_update(area=area, display_name=values.display_name, actor=self.actor)
            changed = True
        if lock.display_name != values.display_name:
            lock = lock_services.lock_update(lock=lock, display_name=values.display_name, actor=self.actor)
            changed = True
        if lock.area_id != area.pk:
            lock = lock_services.lock_install(lock=lock, area=area, actor=self.actor)
            changed = True
        wanted_state = EntityTypeState.ACTIVE if values.enabled else EntityTypeState.INACTIVE
        if lock.type_state != wanted_state:
            lock = lock_services.lock_activity_set(lock=lock, active=values.enabled, actor=self.actor)
            changed = True
        self.locks[lock.pk] = lock
        return ("updated" if changed else "unchanged"), lock

    # access levels → groups --------------------------------------------------------------------------

    def groups_apply(self, records: list[dict]) -> None:
        self.levels: dict[int, mapping.GroupValues] = {}
        self.delegate_levels: set[int] = set()
        self.levels_seen: set[str] = set()
        ids = [link.object_id for (kind, _), link in self.state.links.items() if kind == KINDS.GROUP]
        self.groups = {g.pk: g for g in UserGroup.objects.filter(pk__in=ids)}
        for index, record in enumerate(records):
            if isinstance(record, dict) and record.get("id") not in (None, ""):
                self.levels_seen.add(str(record.get("id")))
            values = self._map(KINDS.GROUP, record, mapping.group_from_lockt, index)
            if values is None:
                continue
            if values.delegate:  # delegate levels are time-bound grants, not groups (not synced yet)
                self.delegate_levels.add(values.external_id)
                continue
            self.levels[values.external_id] = values
            self._reconcile(
                KINDS.GROUP,
                values.external_id,
                record,
                values.display_name,
                self._group_write,
                values,
                problem=self._schedule_problem(values),
            )

    def _schedule_problem(self, level: mapping.GroupValues) -> RecordFailed | None:
        """A door of the level without a usable schedule: it gets no entry (fails closed)."""
        for i, door in enumerate(level.doors):
            if door.schedule_external_id is None:
                return RecordFailed(
                    f"doors[{i}].schedule_id", None, "Lockt did not say the door's schedule: not granted (fails closed)"
                )
            if self._object_id(KINDS.SCHEDULE, str(door.schedule_external_id)) is None:
                return RecordFailed(
                    f"doors[{i}].schedule_id",
                    door.schedule_external_id,
                    "schedule unknown or refused: the door is not granted (fails closed)",
                )
        return None

    def _group_write(self, values: mapping.GroupValues, existing_id) -> tuple[str, object]:
        for i, door in enumerate(values.doors):
            if door.door_external_id not in self.doors:
                raise RecordFailed(f"doors[{i}].id", door.door_external_id, "no such door in this Lockt account")
        if existing_id is None:
            group = access_services.user_group_create(
                prop=self.prop, display_name=values.display_name, group_type=UserGroupGroupType.COMMON, actor=self.actor
            )
            self.groups[group.pk] = group
            return "created", group
        group = self.groups.get(existing_id) or UserGroup.objects.get(pk=existing_id)
        if group.type_state == EntityTypeState.DELETED:
            raise RecordFailed("id", values.external_id, "its Keyhouse group was deleted; unlink it to make a new one")
        if group.display_name == values.display_name:
            return "unchanged", group
        group = access_services.user_group_update(group=group, display_name=values.display_name, actor=self.actor)
        self.groups[group.pk] = group
        return "updated", group

    def access_lists_apply(self) -> None:
        """Each door area's entries for the account's groups are exactly its levels' (door,
        schedule) pairs; entries naming other groups stay. A door whose schedule is unknown or
        could not be mapped gets no entry (fails closed) and its level is marked failed."""
        lockt_groups = {str(link.object_id) for (kind, _), link in self.state.links.items() if kind == KINDS.GROUP}
        wanted: dict[int, list[dict]] = {door_id: [] for door_id in self.doors}
        for level in self.levels.values():
            group_id = self._object_id(KINDS.GROUP, str(level.external_id))
            if group_id is None:
                continue
            for door in level.doors:
                if door.door_external_id not in wanted or door.schedule_external_id is None:
                    continue
                schedule_id = self._object_id(KINDS.SCHEDULE, str(door.schedule_external_id))
                if schedule_id is None:
                    continue  # fails closed (the level's record says why)
                entry = {"accessType": "group", "userGroupId": str(group_id), "scheduleId": str(schedule_id)}
                if entry not in wanted[door.door_external_id]:
                    wanted[door.door_external_id].append(entry)
        area_ids = {
            door_id: self._object_id(AREA_KIND, str(door_id))
            for door_id in wanted
            if self._object_id(AREA_KIND, str(door_id))
        }
        areas = {a.pk: a for a in Area.objects.filter(pk__in=area_ids.values())}
        for door_id, entries in wanted.items():
            area = areas.get(area_ids.get(door_id))
            if area is None or area.type_state == EntityTypeState.DELETED:
                continue
            kept = [e for e in area.access_list if e.get("userGroupId") not in lockt_groups]
            new_list = kept + entries
            if new_list != area.access_list:
                access_services.area_update(area=area, access_list=new_list, actor=self.actor)

    # users ---------------------------------------------------------------------------------------------

    def users_apply(self, records: list[dict]) -> None:
        self.users_seen: set[str] = set()
        user_ids = [link.object_id for (kind, _), link in self.state.links.items() if kind == KINDS.USER]
        self.users = {u.pk: u for u in User.objects.filter(pk__in=user_ids)}
        group_ids = [link.object_id for (kind, _), link in self.state.links.items() if kind == KINDS.GROUP]
        self.memberships: dict = {}
        for user_id, group_id in Membership.objects.filter(user_group_id__in=group_ids).values_list(
            "user_id", "user_group_id"
        ):
            self.memberships.setdefault(user_id, set()).add(group_id)
        self.blocked = set(
            AccessBlock.objects.filter(property=self.prop, created_by=self.actor).values_list("user_id", flat=True)
        )
        self.blocked_any = set(AccessBlock.objects.filter(property=self.prop).values_list("user_id", flat=True))
        self.user_levels: dict[str, tuple[int, ...]] = {}
        self.taken_emails: dict[str, str] = {}
        self.taken_id_nums: dict[str, str] = {}
        for index, record in enumerate(records):
            if isinstance(record, dict) and record.get("id") not in (None, ""):
                self.users_seen.add(str(record.get("id")))
            values = self._map(KINDS.USER, record, lambda r: mapping.user_from_lockt(r, site_tz=self.site_tz), index)
            if values is None:
                continue
            self.user_levels[str(values.external_id)] = values.group_external_ids
            self._reconcile(KINDS.USER, values.external_id, record, values.display_name, self._user_write, values)

    def _user_match(self, values: mapping.UserValues):
        """First link: `id_num` naming a Keyhouse user (one Keyhouse pushed: Keyhouse owns it),
        then the email (Lockt owns the copy from now on); else a new person."""
        if values.id_num:
            try:
                keyhouse_id = uuid.UUID(values.id_num)
            except ValueError:
                keyhouse_id = None
            if keyhouse_id is not None:
                user = User.objects.filter(pk=keyhouse_id).exclude(type_state=EntityTypeState.DELETED).first()
                if user is not None:
                    return user, FROM_KEYHOUSE
        user = User.objects.filter(email=values.email.lower()).exclude(type_state=EntityTypeState.DELETED).first()
        return user, FROM_LOCKT

    def _user_write(self, values: mapping.UserValues, existing_id) -> tuple[str, object]:
        external_id = str(values.external_id)
        for taken, key, what in (
            (self.taken_emails, values.email.lower(), "email"),
            (self.taken_id_nums, values.id_num, "id_num"),
        ):
            if key and taken.get(key, external_id) != external_id:
                raise RecordFailed(what, key, f"another Lockt user ({taken[key]}) of this account has it too")
            if key:
                taken[key] = external_id
        link = self.state.links.get((KINDS.USER, external_id))
        if link is not None and link.sync_direction == FROM_KEYHOUSE:
            return "unchanged", self.users.get(link.object_id)  # Keyhouse owns it: the push's
        phone = values.phone if _phone_ok(values.phone) else ""
        in_window = (values.valid_from is None or values.valid_from <= self.now) and (
            values.valid_until is None or self.now < values.valid_until
        )
        wanted = set()
        for i, level_id in enumerate(values.group_external_ids):
            if level_id in self.delegate_levels:
                continue
            group_id = self._object_id(KINDS.GROUP, str(level_id))
            if group_id is None:
                raise RecordFailed(f"accesslevels[{i}]", level_id, "no such access level (or it was not taken)")
            if in_window:
                wanted.add(group_id)
        outcome = "unchanged"
        created_here = None
        if existing_id is None:
            user, direction = self._user_match(values)
            if user is not None:
                clash = ExternalRef.objects.filter(
                    account_id=self.account.pk, content_type=self.state.content_types[KINDS.USER], object_id=user.pk
                ).first()
                if clash is not None:
                    raise RecordFailed(
                        "email", values.email, f"already linked to Lockt user {clash.external_id} of this account"
                    )
                created_here = False
            else:
                direction = FROM_LOCKT
                user = account_services.user_create(
                    email=values.email, display_name=values.display_name, phone_number=phone, actor=self.actor
                )
                created_here = True
            _link_create(self.account, self.state, KINDS.USER, external_id, user, direction)
            self.users[user.pk] = user
            outcome = "created"
        else:
            user = self.users.get(existing_id) or User.objects.get(pk=existing_id)
            if user.type_state == EntityTypeState.DELETED:
                raise RecordFailed("id", values.external_id, "its Keyhouse person was deleted; unlink it to relink")
        link = self.state.links[KINDS.USER, external_id]
        if link.sync_direction == FROM_KEYHOUSE:
            return outcome, user  # first linked now, Keyhouse-owned: the poll does not overwrite it
        fields = {}
        if user.email != values.email.lower():
            fields["email"] = values.email
        if user.display_name != values.display_name:
            fields["display_name"] = values.display_name
        if user.phone_number != phone:
            fields["phone_number"] = phone
        if fields:
            clash = User.objects.filter(email=values.email.lower()).exclude(pk=user.pk).exists()
            if clash:
                raise RecordFailed("email", values.email, "another Keyhouse person has this email")
            user = account_services.user_update(user=user, actor=self.actor, **fields)
            self.users[user.pk] = user
            outcome = outcome if outcome == "created" else "updated"
        if values.blocked is True and user.pk not in self.blocked_any:
            access_services.block_create(prop=self.prop, user=user, actor=self.actor, reason="Disabled in Lockt")
            self.blocked.add(user.pk)
            self.blocked_any.add(user.pk)
            outcome = outcome if outcome == "created" else "updated"
        elif values.blocked is False and user.pk in self.blocked:
            access_services.block_delete(prop=self.prop, user=user, actor=self.actor)
            self.blocked.discard(user.pk)
            self.blocked_any.discard(user.pk)
            outcome = outcome if outcome == "created" else "updated"
        held = self.memberships.get(user.pk, set())
        for group_id in sorted(wanted - held, key=str):
            access_services.membership_add(group=self.groups[group_id], user=user, actor=self.actor)
        for group_id in sorted(held - wanted, key=str):
            access_services.membership_remove(group=self.groups[group_id], user=user, actor=self.actor)
        if wanted != held:
            self.memberships[user.pk] = wanted
            outcome = outcome if outcome == "created" else "updated"
        if created_here is not None:
            self._created_here = created_here
        return outcome, user

    # delegates → grants ----------------------------------------------------------------------------------

    def delegates_apply(self, records) -> None:
        """Each delegate level (F11): a grant on each of its doors' locks to each user holding it
        (users list it in `accesslevels`, A49), for its window; GUEST when it ends, else USER.
        Expired or gone → revoked. Linked per (delegate, user, door); Lockt owns them."""
        desired: dict[str, tuple] = {}
        for record in records:
            try:
                values = mapping.delegate_from_lockt(record, site_tz=self.site_tz)
            except MappingError as exc:
                logger.warning("lockt account %s: delegate skipped: %s", self.account.pk, exc)
                self._count("failed")
                continue
            if values.valid_until is not None and values.valid_until <= self.now:
                continue  # expired: no access (a purge removes it in Lockt)
            for user_ext, levels in self.user_levels.items():
                user_id = self._object_id(KINDS.USER, user_ext)
                if values.external_id not in levels or user_id is None:
                    continue
                for door_ext in values.door_external_ids:
                    lock_id = self._object_id(KINDS.LOCK, str(door_ext))
                    if lock_id is not None:
                        key = f"{values.external_id}:{user_ext}:{door_ext}"
                        desired[key] = (user_id, lock_id, values.valid_from, values.valid_until)
        linked = {ext: link for (kind, ext), link in self.state.links.items() if kind == GRANT_KIND}
        grants = {g.pk: g for g in AccessGrant.objects.filter(pk__in=[link.object_id for link in linked.values()])}
        for key, link in linked.items():
            grant = grants.get(link.object_id)
            held = grant is not None and grant.revoked_at is None
            same = held and (grant.user_id, grant.lock_id, grant.valid_from, grant.valid_until) == desired.get(key)
            if same:
                desired.pop(key)
                continue
            with transaction.atomic():
                if held:
                    access_services.grant_revoke(grant=grant, actor=self.actor)
                _unlink(self.account, self.state, GRANT_KIND, key)
            if key not in desired:
                self._count("updated")
        for key, (user_id, lock_id, valid_from, valid_until) in desired.items():
            try:
                with transaction.atomic():
                    grant = access_services.grant_create(
                        prop=self.prop,
                        user=self.users.get(user_id) or User.objects.get(pk=user_id),
                        lock=self.locks.get(lock_id) or Lock.objects.get(pk=lock_id),
                        access_level="GUEST" if valid_until else "USER",
                        valid_from=valid_from,
                        valid_until=valid_until,
                        actor=self.actor,
                    )
                    _link_create(self.account, self.state, GRANT_KIND, key, grant)
            except ApplicationError as exc:
                logger.warning("lockt account %s: delegate grant %s not made: %s", self.account.pk, key, exc)
                self._count("failed")
                continue
            self._count("created")

    # generic reconcile -----------------------------------------------------------------------------------

    def _reconcile(self, kind: str, external_id: int, record: dict, label: str, write, values, problem=None) -> None:
        """Apply one record in one transaction; `problem` (a part that could not be taken, e.g. a
        door without a usable schedule) marks it failed after what could be applied."""
        external_id = str(external_id)
        digest = mapping.record_digest(record)
        existing_id = self._object_id(kind, external_id)
        self._created_here = None
        try:
            with transaction.atomic():
                outcome, obj = write(values, existing_id)
                if existing_id is None and kind != KINDS.USER:
                    _link_create(self.account, self.state, kind, external_id, obj)
                    self._created_here = True
                _record_ok(
                    self.account,
                    self.state,
                    kind,
                    external_id,
                    digest=digest,
                    label=label,
                    created_here=self._created_here,
                )
                if problem is not None:
                    lockt_record_fail(
                        account=self.account,
                        state=self.state,
                        kind=kind,
                        external_id=external_id,
                        label=label,
                        error=problem,
                    )
        except (RecordFailed, ApplicationError, ValidationError) as exc:
            self._forget_unsaved(kind, external_id, existing_id)
            self._fail(kind, external_id, label, _as_failure(exc))
            return
        self._count("failed" if problem is not None else outcome)

    def _forget_unsaved(self, kind: str, external_id: str, existing_id) -> None:
        """A rolled-back first link leaves nothing behind in the in-memory state either."""
        if existing_id is None:
            self.state.links.pop((kind, external_id), None)
            if kind == KINDS.LOCK:
                self.state.links.pop((AREA_KIND, external_id), None)

    # removals ---------------------------------------------------------------------------------------------

    def _gone(self, kind: str, seen: set[str]) -> list[tuple[str, ExternalRef]]:
        """Lockt-owned links of `kind` whose record Lockt no longer lists. A list that came back
        empty while Keyhouse holds some is not taken as "all deleted" (a remote glitch would
        revoke everyone): nothing is removed and a warning is logged."""
        gone = [
            (external_id, link)
            for (k, external_id), link in list(self.state.links.items())
            if k == kind and external_id not in seen and link.sync_direction == FROM_LOCKT
        ]
        if gone and not seen:
            logger.warning(
                "lockt account %s: Lockt listed no %s records; %d linked ones kept", self.account.pk, kind, len(gone)
            )
            return []
        return gone

    def gone_users_remove(self) -> None:
        for external_id, link in self._gone(KINDS.USER, self.users_seen):
            created_here = getattr(self.state.records.get((KINDS.USER, external_id)), "created_here", False)
            lockt_user_remove(
                sync=self, external_id=external_id, user=self.users.get(link.object_id), created_here=created_here
            )
            self._count("updated")
        # failed records of users no longer listed: forgotten
        stale = [
            k
            for k in self.state.records
            if k[0] == KINDS.USER
            and k[1] not in self.users_seen
            and k not in self.state.links
            and not k[1].startswith(PENDING_PREFIX)  # a Keyhouse person's push: the push's to clear
        ]
        if stale:
            LocktRecord.objects.filter(
                account=self.account, kind=KINDS.USER, external_id__in=[k[1] for k in stale]
            ).delete()
            for k in stale:
                self.state.records.pop(k, None)

    def gone_groups_remove(self) -> None:
        for external_id, link in self._gone(KINDS.GROUP, self.levels_seen | {str(i) for i in self.delegate_levels}):
            with transaction.atomic():
                group = UserGroup.objects.filter(pk=link.object_id).first()
                if group is not None and group.type_state != EntityTypeState.DELETED:
                    try:
                        access_services.user_group_delete(group=group, actor=self.actor)
                    except ApplicationError as exc:
                        logger.warning("lockt account %s: group %s kept: %s", self.account.pk, group.pk, exc)
                _unlink(self.account, self.state, KINDS.GROUP, external_id)
            self._count("updated")

    def gone_doors_remove(self) -> None:
        for external_id, link in self._gone(KINDS.LOCK, self.doors_seen):
            with transaction.atomic():
                lock = Lock.objects.filter(pk=link.object_id).first()
                area_id = self._object_id(AREA_KIND, external_id)
                area = Area.objects.filter(pk=area_id).first() if area_id else None
                if area is not None and area.type_state != EntityTypeState.DELETED and area.access_list:
                    access_services.area_update(area=area, access_list=[], actor=self.actor)
                if lock is not None:
                    lock_services.lock_deprovision(lock=lock, actor=self.actor)
                if area is not None and area.type_state != EntityTypeState.DELETED:
                    try:
                        access_services.area_delete(area=area, actor=self.actor)
                    except ApplicationError as exc:
                        logger.warning("lockt account %s: area %s kept: %s", self.account.pk, area.pk, exc)
                _unlink(self.account, self.state, AREA_KIND, external_id)
                _unlink(self.account, self.state, KINDS.LOCK, external_id)
            self._count("updated")

    def gone_schedules_remove(self) -> None:
        for external_id, link in self._gone(KINDS.SCHEDULE, self.schedules_seen):
            with transaction.atomic():
                schedule = Schedule.objects.filter(pk=link.object_id).first()
                if schedule is not None and schedule.type_state != EntityTypeState.DELETED:
                    try:
                        access_services.schedule_delete(schedule=schedule, actor=self.actor)
                    except ApplicationError as exc:
                        logger.warning("lockt account %s: schedule %s kept: %s", self.account.pk, schedule.pk, exc)
                _unlink(self.account, self.state, KINDS.SCHEDULE, external_id)
            self._count("updated")

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
def lockt_user_remove(*, sync: LocktSync, external_id: str, user, created_here: bool) -> None:
    """A Lockt-owned user no longer in Lockt: out of the account's groups, its Lockt block
    lifted, unlinked; the person is deleted too when the sync made it and nothing else ties it
    to Keyhouse (other groups, grants, permissions, other links). Its access is revoked either
    way, and reaches offline locks at their next sync like any revocation."""
    if user is not None:
        for group_id in sorted(sync.memberships.get(user.pk, set()), key=str):
            access_services.membership_remove(group=sync.groups[group_id], user=user, actor=sync.actor)
        sync.memberships.pop(user.pk, None)
        if user.pk in sync.blocked:
            access_services.block_delete(prop=sync.prop, user=user, actor=sync.actor)
    _unlink(sync.account, sync.state, KINDS.USER, external_id)
    if user is None or not created_here or user.type_state == EntityTypeState.DELETED:
        return
    tied = (
        Membership.objects.filter(user=user).exists()
        or AccessGrant.objects.filter(user=user, revoked_at__isnull=True).exists()
        or user.grants.exists()
        or ExternalRef.objects.filter(content_type=sync.state.content_types[KINDS.USER], object_id=user.pk).exists()
    )
    if not tied:
        access_services.user_delete(user=user, actor=sync.actor)


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


def _phone_ok(phone: str) -> bool:
    """Keyhouse keeps E.164 phones; Lockt's carry no country code ("8184365100"), so only a
    phone already written `+<digits>` is taken (docs/INTEGRATIONS.md)."""
    return bool(phone) and phone.startswith("+") and phone[1:].isdigit() and 2 <= len(phone) <= 16


def _label(record) -> str:
    if not isinstance(record, dict):
        return ""
    if record.get("first_name") or record.get("last_name"):
        return f"{record.get('first_name', '')} {record.get('last_name', '')}".strip()
    name = record.get("name") or record.get("email") or ""
    return str(name)


def _as_failure(exc: Exception) -> RecordFailed:
    if isinstance(exc, RecordFailed):
        return exc
    if isinstance(exc, ValidationError):
        fields = getattr(exc, "message_dict", None) or {"": exc.messages}
        name, messages = next(iter(fields.items()))
        return RecordFailed(name, "", "; ".join(str(m) for m in messages))
    fields = getattr(exc, "fields", None) or {}
    if fields:
        name, messages = next(iter(fields.items()))
        return RecordFailed(name, "", "; ".join(str(m) for m in messages))
    return RecordFailed("", "", str(exc))


def lockt_event_mark(account: IntegrationAccount) -> int | None:
    mark = LocktEventMark.objects.filter(account=account).first()
    return None if mark is None else mark.last_event_id
