"""Import runs: upload, validate (dry run), apply, cancel. Every write to the domain goes
through the owning app's services (accounts, areas, access), so events are emitted and
derived access and key maps follow exactly as for the API (docs/IMPORT.md)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.access import services as access_services
from apps.access.models import AccessGrant, UserGroup
from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.areas.models import Area
from apps.core.exceptions import ApplicationError, ConflictError
from apps.core.principal import Principal
from apps.events.services import event_append
from apps.imports import plans
from apps.imports.models import OPERATIONS, ImportOperation, ImportRun, ImportRunStatus
from apps.imports.parsers import Parsed, parse_chunks
from apps.locks.models import Lock

logger = logging.getLogger("keyhouse.imports")

BATCH = 200  # operations applied together (batch services, one progress report each)
# A run still "applying" this long after it was queued, whose row no apply holds, lost its worker.
RESUME_AFTER = timedelta(minutes=1)


class FileTooLarge(ApplicationError):
    status = 413


def max_bytes() -> int:
    return settings.KEYHOUSE_IMPORT_MAX_BYTES


def _enqueue(task, run_id) -> None:
    transaction.on_commit(partial(task.delay, str(run_id)))


def _event(name: str, run: ImportRun, actor: str, **payload) -> None:
    event_append(
        event_name=name,
        actor=actor,
        property_id=run.property_id,
        payload={"importRunId": str(run.pk), "kind": run.kind, "mode": run.mode, **payload},
    )


@transaction.atomic
def import_run_create(
    *, prop, kind: str, mode: str, file_name: str, content: bytes, actor: str, principal: Principal | None = None
) -> ImportRun:
    """Keep an uploaded file and queue its validation (event `import.created`). A file over the
    limit is refused (413) before anything is kept."""
    if len(content) > max_bytes():
        message = f"The file is {len(content):,} bytes; the limit is {max_bytes():,} bytes."
        raise FileTooLarge(f"file: {message}", fields={"file": [message]})
    run = ImportRun(
        property=prop,
        kind=kind,
        mode=mode,
        file_name=file_name[:255],
        content=content,
        principal=plans.principal_dump(principal),
        created_by=actor,
        last_modified_by=actor,
    )
    run.full_clean(exclude=["content"])
    run.save()
    _event("import.created", run, actor, fileName=run.file_name)
    from apps.imports import tasks  # local: the tasks module imports this one

    _enqueue(tasks.import_run_validate, run.pk)
    return run


CHUNK = 2000  # rows parsed and planned, and operations stored or read, at a time


def _plan_chunks(run: ImportRun, errors: list, parsed: Parsed) -> Iterator[list[dict]]:
    """The run's file parsed and planned a chunk at a time (lists of operations); `errors`
    receives the planner's row errors, `parsed` the parser's (complete at the end)."""
    chunks = parse_chunks(
        bytes(run.content), parsed, time_zone=run.property.time_zone, max_bytes=max_bytes(), size=CHUNK
    )
    yield from plans.plan_stream(
        prop=run.property,
        parsed=parsed,
        chunks=chunks,
        mode=run.mode,
        errors=errors,
        principal=plans.principal_load(run.principal),
    )


def _all_errors(parsed: Parsed, plan_errors: list) -> list[dict]:
    errors = [e.as_dict() for e in parsed.errors] + plan_errors
    errors.sort(key=lambda e: e["row"])
    return errors


def _stored(run: ImportRun, size: int = CHUNK) -> Iterator[list[dict]]:
    """The run's stored operations in plan order, `size` at a time (a page by `seq` each)."""
    start = 0
    while True:
        page = list(
            run.operations.filter(seq__gte=start, seq__lt=start + size).order_by("seq").values_list("data", flat=True)
        )
        if not page:
            return
        yield page
        start += size


def import_run_validate(*, run_id) -> ImportRun | None:
    """Parse the file and build the dry-run plan (event `import.validated`), a chunk of rows at
    a time: each chunk's operations are stored as they are planned (ImportOperation rows), so
    memory follows the chunk, not the file. Writes only the run's own rows; a second call for
    a validated run does nothing, and a redelivered one starts again."""
    run = ImportRun.objects.select_related("property").filter(pk=run_id).first()
    if run is None or run.status not in (ImportRunStatus.UPLOADED, ImportRunStatus.VALIDATING):
        return run
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRunStatus.VALIDATING, rows_done=0)
    ImportOperation.objects.filter(run_id=run.pk).delete()
    plan_errors: list = []
    parsed = Parsed(kind=run.kind)
    counts = dict.fromkeys(OPERATIONS, 0)
    seq = 0
    for ops in _plan_chunks(run, plan_errors, parsed):
        ImportOperation.objects.bulk_create(
            [
                ImportOperation(run_id=run.pk, seq=seq + i, op=op["op"], row=op.get("row"), data=op)
                for i, op in enumerate(ops)
            ],
            batch_size=500,
        )
        seq += len(ops)
        for op in ops:
            counts[op["op"]] += 1
        ImportRun.objects.filter(pk=run.pk).update(rows_done=parsed.total)
    errors = _all_errors(parsed, plan_errors)
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().defer("content").get(pk=run.pk)
        if run.status != ImportRunStatus.VALIDATING:  # cancelled meanwhile
            return run
        run.errors, run.rows_total, run.rows_done = errors, parsed.total, parsed.total
        run.summary = {**counts, "errors": len(errors)}
        run.status = ImportRunStatus.VALIDATED
        run.save()
        _event("import.validated", run, run.created_by, summary=run.summary)
    return run


@transaction.atomic
def import_run_apply_request(*, run: ImportRun, actor: str, valid_rows_only: bool = False) -> ImportRun:
    """Queue applying a validated run. Refused while it has row errors, unless the caller
    chose explicitly to apply the valid rows only."""
    run = ImportRun.objects.select_for_update().defer("content").get(pk=run.pk)
    if run.status != ImportRunStatus.VALIDATED:
        raise ConflictError(f"status: the import is {run.status}; only a validated import can be applied")
    if run.errors and not valid_rows_only:
        count = len(run.errors)
        message = f"The file has {count} error{'s' if count > 1 else ''}; fix them, or apply the valid rows only."
        raise ApplicationError(f"validRowsOnly: {message}", fields={"validRowsOnly": [message]})
    run.status, run.applied_by, run.valid_rows_only, run.last_modified_by = (
        ImportRunStatus.APPLYING,
        actor,
        valid_rows_only,
        actor,
    )
    run.rows_done = 0
    run.save()
    from apps.imports import tasks  # local: the tasks module imports this one

    _enqueue(tasks.import_run_apply, run.pk)
    return run


@transaction.atomic
def import_run_cancel(*, run: ImportRun, actor: str) -> ImportRun:
    """Stop a run before it is applied (event `import.cancelled`); an applying or finished run
    cannot be cancelled (409)."""
    run = ImportRun.objects.select_for_update().defer("content").get(pk=run.pk)
    if run.status not in (ImportRunStatus.UPLOADED, ImportRunStatus.VALIDATING, ImportRunStatus.VALIDATED):
        raise ConflictError(f"status: the import is {run.status}; it can no longer be cancelled")
    run.status, run.finished_at, run.last_modified_by = ImportRunStatus.CANCELLED, timezone.now(), actor
    run.save()
    _event("import.cancelled", run, actor)
    return run


def progress_key(run_id) -> str:
    return f"imports:progress:{run_id}"


def import_run_progress(run: ImportRun) -> tuple[int, int]:
    """(rows done, rows total): while applying, the worker's count of operations, which lives
    in the cache because the apply transaction is not visible until it commits."""
    if run.status == ImportRunStatus.APPLYING:
        return cache.get(progress_key(run.pk), run.rows_done), run.operations_total
    if run.status == ImportRunStatus.APPLIED:
        return run.operations_total, run.operations_total
    return run.rows_done, run.rows_total


STALE_LINES = 20


def _describe(op: dict) -> str:
    return f"{op['op']} {op.get('changes', '')}".strip()


def _stale(run: ImportRun) -> list[str]:
    """What changed since validation: the file planned again, a chunk at a time, against the
    stored plan; one line per operation that differs (at most STALE_LINES), then whether the
    row errors changed."""
    plan_errors: list = []
    parsed = Parsed(kind=run.kind)
    fresh = itertools.chain.from_iterable(_plan_chunks(run, plan_errors, parsed))
    stored = itertools.chain.from_iterable(_stored(run))
    lines = []
    for old, now in itertools.zip_longest(stored, fresh):
        if old == now:
            continue
        where = _where(old or now)
        if old is None:
            lines.append(f"{where}: now {_describe(now)}, not planned")
        else:
            lines.append(f"{where}: planned {_describe(old)}, now {'nothing' if now is None else _describe(now)}")
        if len(lines) >= STALE_LINES:
            return lines
    if _all_errors(parsed, plan_errors) != run.errors:
        lines.append("the row errors changed")
    return lines


def import_run_apply(*, run_id) -> ImportRun | None:
    """Carry out a run's plan in one transaction (events of every service called, then
    `import.applied`), or refuse it when the data changed since validation (`import.failed`
    naming what changed). All or nothing: a worker that dies mid-way rolls everything back and
    the redelivered task starts again, so nothing is applied twice and nothing is lost. The
    plan is read and carried out BATCH operations at a time."""
    run = ImportRun.objects.select_related("property").filter(pk=run_id).first()
    if run is None or run.status != ImportRunStatus.APPLYING:
        return run
    changed = _stale(run)
    if changed:
        return _fail(run, "The data changed since validation; validate again. " + "; ".join(changed))
    op: dict = {}
    try:
        with transaction.atomic():
            # The file is not needed any more (the plan was checked): leave its bytes out.
            run = ImportRun.objects.select_for_update().select_related("property").defer("content").get(pk=run.pk)
            if run.status != ImportRunStatus.APPLYING:
                return run
            state = _ApplyState(run)
            done = 0
            for batch in _stored(run, BATCH):
                op = batch[0]
                _apply(state, batch)
                done += len(batch)
                cache.set(progress_key(run.pk), done, 3600)
            run.applied_ops = run.rows_done = done
            run.status, run.finished_at = ImportRunStatus.APPLIED, timezone.now()
            run.summary = {**run.summary, "applied": {name: run.summary.get(name, 0) for name in OPERATIONS}}
            run.save()
            _event("import.applied", run, run.applied_by, summary=run.summary["applied"])
    except (ApplicationError, ValidationError, ObjectDoesNotExist, MultipleObjectsReturned, IntegrityError) as refusal:
        # A service refused (or the data moved under the plan): all rolled back; say where.
        return _fail(
            run, f"{getattr(refusal, 'where', None) or _where(op)}: {getattr(refusal, 'message', None) or refusal}"
        )
    cache.delete(progress_key(run.pk))
    return run


def import_runs_resume(*, now: datetime | None = None) -> list[str]:
    """Beat (`imports-resume`, every minute): queue the apply again of runs a dead worker left
    "applying". A running apply holds its run's row locked for its whole transaction (above), so
    SKIP LOCKED passes it over; a row nobody holds, queued over RESUME_AFTER ago, lost its worker
    (its transaction rolled back when the process died). Redis would hand the unacknowledged
    task out again only after its visibility timeout (an hour). A duplicate delivery is
    harmless: the apply does nothing unless the run is still "applying"."""
    cutoff = (now or timezone.now()) - RESUME_AFTER
    with transaction.atomic():
        stuck = [
            str(run.pk)
            for run in ImportRun.objects.select_for_update(skip_locked=True)
            .filter(status=ImportRunStatus.APPLYING, last_modified_at__lte=cutoff)
            .only("pk")
        ]
    if stuck:
        from apps.imports import tasks  # local: the tasks module imports this one

        for run_id in stuck:
            logger.warning("import run %s was left applying by a stopped worker; applying it again", run_id)
            tasks.import_run_apply.delay(run_id)
    return stuck


def _where(op: dict) -> str:
    return f"row {op['row']}" if op.get("row") else op.get("key", "")


@transaction.atomic
def _fail(run: ImportRun, reason: str) -> ImportRun:
    run = ImportRun.objects.select_for_update().defer("content").get(pk=run.pk)
    run.status, run.failure, run.finished_at = ImportRunStatus.FAILED, reason[:5000], timezone.now()
    run.save()
    _event("import.failed", run, run.applied_by or run.created_by, reason=reason[:500])
    return run


# --- a batch of operations, through the owning apps' services -------------------------------


class _ApplyState:
    """What every batch of one apply shares: the run, who applies it, the property's groups."""

    def __init__(self, run: ImportRun):
        self.run, self.prop, self.actor = run, run.property, run.applied_by
        self._groups: dict | None = None

    def group(self, group_id) -> UserGroup:
        if self._groups is None:
            self._groups = {str(g.pk): g for g in UserGroup.objects.filter(property=self.prop)}
        try:
            return self._groups[str(group_id)]
        except KeyError:
            raise UserGroup.DoesNotExist(f"the group {group_id} is gone") from None


def _apply(state: _ApplyState, batch: list[dict]) -> None:
    """Users and memberships go through the batch services (a few queries and one membership
    event per batch); the other kinds, whose files are small, one service call per row."""
    if state.run.kind == "users":
        _apply_users(state, batch)
    elif state.run.kind == "memberships":
        _apply_memberships(state, batch)
    else:
        applier = {"groups": _apply_group, "areas": _apply_area, "grants": _apply_grant}[state.run.kind]
        for op in batch:
            try:
                applier(state.run, op, state.actor)
            except Exception as refusal:  # name the row, then let import_run_apply roll back
                refusal.where = _where(op)
                raise


def _people(ids) -> dict:
    """The people the operations name, by id (one query); a missing one fails the apply."""
    wanted = {UUID(str(i)) for i in ids}
    found = {str(pk): u for pk, u in User.objects.in_bulk(list(wanted)).items()}
    if len(found) < len(wanted):
        raise User.DoesNotExist("a person named by the plan is gone")
    return found


def _rows(batch: list[dict]) -> str:
    rows = [op["row"] for op in batch if op.get("row")]
    return f"rows {rows[0]}–{rows[-1]}" if rows else _where(batch[0])


def _apply_users(state: _ApplyState, batch: list[dict]) -> None:
    actor, source = state.actor, plans.external_source(state.prop)
    creates = [op for op in batch if op["op"] == "create"]
    changed = [op for op in batch if op["op"] in ("update", "remove")]
    people = _people(op["id"] for op in changed)
    adds, removes = [], []
    try:
        made = []
        if creates:
            made = account_services.users_create(
                people=[_person_fields(op["values"]) for op in creates], actor=actor, external_source=source
            )
        for op, user in zip(creates, made, strict=True):
            adds += [(state.group(g), user) for g in op.get("groupIds", [])]
        for op in changed:
            user = people[op["id"]]
            if op["op"] == "remove":
                removes += [(state.group(g), user) for g in op["groupIds"]]
                continue
            changes = op["changes"]
            fields = {plans.USER_FIELDS[c]: changes[c][1] for c in plans.USER_FIELDS if c in changes}
            if fields:
                user = account_services.user_update(user=user, actor=actor, **fields)
            external_id = changes.get("externalId", [None, None])[1]
            if external_id:
                account_services.user_external_id_set(user=user, source=source, external_id=external_id, actor=actor)
            adds += [(state.group(g), user) for g in op.get("groupIds", [])]
        access_services.memberships_add(memberships=adds, actor=actor)
        access_services.memberships_remove(memberships=removes, actor=actor)
    except Exception as refusal:
        refusal.where = _rows(batch)
        raise


def _person_fields(values: dict) -> dict:
    fields = {plans.USER_FIELDS[c]: values[c] for c in plans.USER_FIELDS if c in values}
    if values.get("externalId"):
        fields["external_id"] = values["externalId"]
    return fields


def _apply_memberships(state: _ApplyState, batch: list[dict]) -> None:
    adds, removes = [], []
    try:
        pairs = [op if op["op"] == "remove" else op["values"] for op in batch if op["op"] in ("create", "remove")]
        people = _people(p["userId"] for p in pairs)
        for op in batch:
            if op["op"] in ("create", "remove"):
                ids = op["values"] if op["op"] == "create" else op
                (adds if op["op"] == "create" else removes).append(
                    (state.group(ids["groupId"]), people[str(ids["userId"])])
                )
        access_services.memberships_add(memberships=adds, actor=state.actor)
        access_services.memberships_remove(memberships=removes, actor=state.actor)
    except Exception as refusal:
        refusal.where = _rows(batch)
        raise


def _apply_group(run: ImportRun, op: dict, actor: str) -> None:
    if op["op"] == "create":
        values = op["values"]
        access_services.user_group_create(
            prop=run.property, display_name=values["name"], group_type=values["type"], actor=actor
        )
    elif op["op"] == "update":
        group = UserGroup.objects.get(pk=op["id"])
        access_services.user_group_update(group=group, display_name=op["changes"]["name"][1], actor=actor)
    elif op["op"] == "remove":
        access_services.user_group_delete(group=UserGroup.objects.get(pk=op["id"]), actor=actor)


def _area_named(prop, name: str | None) -> Area | None:
    if name is None:
        return None
    return Area.objects.alive().get(property=prop, display_name__iexact=name)


def _apply_area(run: ImportRun, op: dict, actor: str) -> None:
    prop = run.property
    if op["op"] == "create":
        values = op["values"]
        parent = _area_named(prop, values["parent"])
        access_services.area_create(
            prop=prop,
            display_name=values["name"],
            area_type=values["type"],
            parent_id=parent.pk if parent else None,
            actor=actor,
        )
    elif op["op"] == "update":
        area, changes = Area.objects.get(pk=op["id"]), op["changes"]
        kwargs = {}
        if "name" in changes:
            kwargs["display_name"] = changes["name"][1]
        if "parent" in changes:
            after = changes["parent"][1]
            parent = _area_named(prop, after.split("/")[-1].strip()) if after else None
            kwargs["parent_id"] = parent.pk if parent else None
        access_services.area_update(area=area, actor=actor, **kwargs)
    elif op["op"] == "remove":
        access_services.area_delete(area=Area.objects.get(pk=op["id"]), actor=actor)


def _moment(text: str | None):
    return datetime.fromisoformat(text) if text else None


def _apply_grant(run: ImportRun, op: dict, actor: str) -> None:
    """A grant cannot be edited: an update revokes the old one and gives the new one."""
    if op["op"] in ("update", "remove"):
        access_services.grant_revoke(grant=AccessGrant.objects.get(pk=op["id"]), actor=actor)
    if op["op"] in ("create", "update"):
        values = op["values"]
        access_services.grant_create(
            prop=run.property,
            user=User.objects.get(pk=values["userId"]),
            lock=Lock.objects.get(pk=values["lockId"]) if values["lockId"] else None,
            area=Area.objects.get(pk=values["areaId"]) if values["areaId"] else None,
            access_level=values["accessLevel"],
            valid_from=_moment(values["validFrom"]),
            valid_until=_moment(values["validUntil"]),
            actor=actor,
        )
