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

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.exceptions import ApplicationError
from apps.core.models import ExternalRef
from apps.integrations.lockt import mapping
from apps.integrations.lockt.sync_events import EventsSync, lockt_event_mark, lockt_events_import
from apps.integrations.lockt.sync_people import PeopleSync, lockt_user_remove
from apps.integrations.lockt.sync_places import PlacesSync
from apps.integrations.lockt.sync_records import (
    AREA_KIND,
    FROM_KEYHOUSE,
    FROM_LOCKT,
    GRANT_KIND,
    KIND_MODELS,
    KINDS,
    PENDING_PREFIX,
    SOURCE,
    VALUE_SHOWN_MAX,
    Counts,
    RecordFailed,
    State,
    _as_failure,
    _label,
    _link_create,
    _phone_ok,
    _record_ok,
    _state,
    _unlink,
    actor_of,
    lockt_record_fail,
    logger,
    record_delete,
)
from apps.integrations.mapping import MappingError
from apps.integrations.models import IntegrationAccount
from apps.locks.models import LockHealth

__all__ = [
    "AREA_KIND",
    "Counts",
    "FROM_KEYHOUSE",
    "FROM_LOCKT",
    "GRANT_KIND",
    "KINDS",
    "KIND_MODELS",
    "LocktSync",
    "PENDING_PREFIX",
    "RecordFailed",
    "SOURCE",
    "State",
    "VALUE_SHOWN_MAX",
    "_as_failure",
    "_label",
    "_link_create",
    "_phone_ok",
    "_record_ok",
    "_state",
    "_unlink",
    "actor_of",
    "lockt_event_mark",
    "lockt_events_import",
    "lockt_record_fail",
    "lockt_user_remove",
    "logger",
    "record_delete",
]

# --- the poll ---------------------------------------------------------------------------------------


class LocktSync(PlacesSync, PeopleSync, EventsSync):
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

    def run(self, *, schedules, doors, levels, users, events, door_states=(), delegates=()) -> Counts:
        """Each phase commits once: its records' own transactions are savepoints in it, so a
        bad record still fails alone, without a commit (a WAL flush) per record."""
        self.counts.fetched = len(schedules) + len(doors) + len(levels) + len(users) + len(events) + len(delegates)
        with transaction.atomic():
            self.schedules_apply(schedules)
        self.flush()
        with transaction.atomic():
            self.doors_apply(doors)
            self.health = dict(
                LockHealth.objects.filter(lock_id__in=list(self.locks), source=SOURCE).values_list(
                    "lock_id", "battery_level"
                )
            )
            self.batteries_apply(door_states)
        self.flush()
        with transaction.atomic():
            self.groups_apply(levels)
            self.access_lists_apply()
        self.flush()
        with transaction.atomic():
            self.users_apply(users)
            self.delegates_apply(delegates)
        self.flush()
        with transaction.atomic():
            self.gone_users_remove()
            self.gone_doors_remove()
            self.gone_groups_remove()
            self.gone_schedules_remove()
        self.events_apply(events)
        self.flush(final=True)
        return self.counts

    # generic reconcile -----------------------------------------------------------------------------------

    def _reconcile(self, kind: str, external_id: int, record: dict, label: str, write, values, problem=None) -> None:
        """Apply one record in one transaction (a savepoint of its phase's); `problem` (a part
        that could not be taken, e.g. a door without a usable schedule) marks it failed after
        what could be applied."""
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

    def _batch_or_each(self, kind: str, batch: list, create, write):
        """`create(sync=self, batch=batch)` in one transaction (a batch service of new records);
        if the batch is refused, each (record, values) goes through `_reconcile` with `write`, so
        a bad one fails alone, and None is returned."""
        try:
            return create(sync=self, batch=batch)
        except (RecordFailed, ApplicationError, ValidationError, IntegrityError) as exc:
            logger.info(
                "lockt account %s: a batch of %d %s records applied one by one: %s",
                self.account.pk,
                len(batch),
                kind,
                exc,
            )
            for record, values in batch:
                self._reconcile(kind, values.external_id, record, values.display_name, write, values)
            return None

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
