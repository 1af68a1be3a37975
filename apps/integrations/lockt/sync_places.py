"""Lockt sync of schedules, doors (locks + their areas, batteries) and access levels (groups
+ the door areas' access lists), and their removal (docs/INTEGRATIONS.md "Lockt sync")."""

from django.db import transaction

from apps.access import services as access_services
from apps.access.models import Schedule, UserGroup, UserGroupGroupType
from apps.access.schedules import windows_to_json
from apps.areas.models import Area, AreaAreaType
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError
from apps.integrations.lockt import mapping
from apps.integrations.lockt.sync_records import (
    AREA_KIND,
    FROM_KEYHOUSE,
    FROM_LOCKT,
    KINDS,
    SOURCE,
    RecordFailed,
    _link_create,
    _links_batch_create,
    _unlink,
    logger,
)
from apps.integrations.mapping import MappingError
from apps.locks import services as lock_services
from apps.locks.models import Lock

DOORS_BATCH = 500  # new doors per transaction (docs/INTEGRATIONS.md "Lockt sync")


@transaction.atomic
def lockt_doors_create(*, sync, batch: list) -> tuple[list, list, list, list]:
    """New Lockt doors of one poll at once: their areas (`areas_create`: one `area.created` and
    one `group.created` each), their locks installed there (`locks_create_installed`), the
    areas' and locks' links and the locks' records (one `lockt_record.batch_linked`). Returns
    (area links, lock links, records, locks); the caller puts them in the poll's state once
    this has committed."""
    areas = access_services.areas_create(
        prop=sync.prop,
        areas=[{"display_name": values.display_name, "area_type": AreaAreaType.COMMON} for _, values in batch],
        actor=sync.actor,
    )
    locks = lock_services.locks_create_installed(
        doors=[(values.display_name, area, values.enabled) for (_, values), area in zip(batch, areas, strict=True)],
        actor=sync.actor,
    )
    area_rows = [(str(values.external_id), area, raw, "") for (raw, values), area in zip(batch, areas, strict=True)]
    area_links, _ = _links_batch_create(sync.account, sync.state, AREA_KIND, area_rows, sync.actor)
    lock_rows = [
        (str(values.external_id), lock, raw, values.display_name)
        for (raw, values), lock in zip(batch, locks, strict=True)
    ]
    lock_links, records = _links_batch_create(sync.account, sync.state, KINDS.LOCK, lock_rows, sync.actor)
    return area_links, lock_links, records, locks


class PlacesSync:
    """Schedules, doors and levels of `LocktSync` (a mixin: its state and helpers)."""

    def _keyhouse_owned(self, kind: str, external_id) -> bool:
        """A door or level Keyhouse pushed (a group or lock marked for Lockt): its link says
        `fromInternalToExternal`, so the poll neither copies it in nor takes it as new."""
        link = self.state.links.get((kind, str(external_id)))
        return link is not None and link.sync_direction == FROM_KEYHOUSE

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
        area_ids = [link.object_id for (kind, _), link in self.state.links.items() if kind == AREA_KIND]
        self.door_areas = {area.pk: area for area in Area.objects.filter(pk__in=area_ids)}
        fresh, fresh_ids = [], set()
        for index, record in enumerate(records):
            if isinstance(record, dict) and record.get("id") not in (None, ""):
                self.doors_seen.add(str(record.get("id")))
            values = self._map(KINDS.LOCK, record, mapping.lock_from_lockt, index)
            if values is None:
                continue
            self.doors[values.external_id] = values
            if self._keyhouse_owned(KINDS.LOCK, values.external_id):
                continue  # a lock Keyhouse pushed (lockt/marks.py): Keyhouse owns it, the poll leaves it
            if self._door_fresh(values) and values.external_id not in fresh_ids:
                fresh.append((record, values))
                fresh_ids.add(values.external_id)
            else:
                self._reconcile(KINDS.LOCK, values.external_id, record, values.display_name, self._door_write, values)
        for start in range(0, len(fresh), DOORS_BATCH):
            self._doors_batch(fresh[start : start + DOORS_BATCH])

    def _door_fresh(self, values: mapping.LockValues) -> bool:
        """A door never linked nor recorded (neither its lock nor its area): made in a batch."""
        external_id = str(values.external_id)
        return not any(
            key in self.state.links or key in self.state.records
            for key in ((KINDS.LOCK, external_id), (AREA_KIND, external_id))
        )

    def _doors_batch(self, batch: list) -> None:
        """New doors in one transaction (`lockt_doors_create`); if the batch is refused, each
        record is applied alone, so a bad one fails alone."""
        made = self._batch_or_each(KINDS.LOCK, batch, lockt_doors_create, self._door_write)
        if made is None:
            return
        area_links, lock_links, records, locks = made
        for kind, links in ((AREA_KIND, area_links), (KINDS.LOCK, lock_links)):
            for link in links:
                self.state.links[kind, link.external_id] = link
        for record in records:
            self.state.records[KINDS.LOCK, record.external_id] = record
        for lock in locks:
            self.locks[lock.pk] = lock
        self.counts.created += len(locks)

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
        area = (self.door_areas.get(area_id) or Area.objects.filter(pk=area_id).first()) if area_id else None
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
        self.untaken_levels: set[int] = set()
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
                self.untaken_levels.add(values.external_id)
                continue
            if self._keyhouse_owned(KINDS.GROUP, values.external_id):  # pushed by lockt/marks.py
                self.untaken_levels.add(values.external_id)
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
        lockt_groups = {
            str(link.object_id)
            for (kind, _), link in self.state.links.items()
            if kind == KINDS.GROUP and link.sync_direction == FROM_LOCKT
        }
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

    def gone_groups_remove(self) -> None:
        for external_id, link in self._gone(KINDS.GROUP, self.levels_seen | {str(i) for i in self.untaken_levels}):
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
