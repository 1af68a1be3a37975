"""Lockt sync bookkeeping: per-account state read once per poll, links (ExternalRef) and
records (LocktRecord) written inside each record's transaction, and failures
(docs/INTEGRATIONS.md "Lockt sync")."""

import logging
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.access.models import AccessGrant, Schedule, UserGroup
from apps.accounts.models import User
from apps.areas.models import Area
from apps.core.choices import ExternalRefSyncDirection, ExternalRefSyncStatus
from apps.core.models import ExternalRef
from apps.events.services import event_append
from apps.integrations.lockt.mapping import record_digest
from apps.integrations.mapping import MappingError
from apps.integrations.models import IntegrationAccount, LocktRecord, LocktRecordKind
from apps.locks.models import Lock

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


@dataclass(slots=True)
class RecordRow:
    """A `LocktRecord` as a poll reads it: its columns, not a model instance (an unchanged poll's
    cost was mostly making 20,000 instances). Writes go by `id` (`_record_ok`,
    `lockt_record_fail`, `record_delete`); a record made during the poll is a `LocktRecord`,
    which has the same attributes."""

    id: object
    kind: str
    external_id: str
    label: str
    digest: str
    status: str
    error_field: str
    error_value: str
    error_reason: str
    created_here: bool


RECORD_COLUMNS = [f.name for f in RecordRow.__dataclass_fields__.values()]


@dataclass
class State:
    """What Keyhouse holds for one account, read in bulk once per poll."""

    records: dict = field(default_factory=dict)  # (kind, external id) → RecordRow or LocktRecord
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
    # Only the columns a poll reads (the others are never read; a link is written by `.update()`).
    links = ExternalRef.objects.filter(account_id=account.pk, source=SOURCE).only(
        "id", "content_type_id", "object_id", "external_id", "sync_direction", "sync_status"
    )
    for link in links:
        kind = kind_of.get(link.content_type_id)
        if kind:
            state.links[kind, link.external_id] = link
    for row in LocktRecord.objects.filter(account=account).values_list(*RECORD_COLUMNS):
        record = RecordRow(*row)
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


def _links_batch_create(account, state: State, kind: str, rows: list[tuple[str, object, dict, str]], actor: str):
    """Links (and, for a record kind, synced records made here) of many objects a batch service
    just created, in one INSERT each, with one `lockt_record.batch_linked` event: `rows` are
    (external id, object, raw record, label). Returns (links, records); the caller puts them in
    `state` once its transaction has committed."""
    now = timezone.now()
    links = [
        ExternalRef(
            content_type=state.content_types[kind],
            object_id=obj.pk,
            source=SOURCE,
            account_id=account.pk,
            external_id=external_id,
            sync_direction=FROM_LOCKT,
            sync_status=ExternalRefSyncStatus.SYNCED,
            last_sync_date=now,
        )
        for external_id, obj, _, _ in rows
    ]
    ExternalRef.objects.bulk_create(links, batch_size=500)
    if kind not in KINDS.values:  # an area's own events say enough
        return links, []
    records = [
        LocktRecord(
            account=account,
            kind=kind,
            external_id=external_id,
            digest=record_digest(raw),
            label=label[:300],
            status="synced",
            created_here=True,
            updated_at=now,
        )
        for external_id, _, raw, label in rows
    ]
    LocktRecord.objects.bulk_create(records, batch_size=500)
    event_append(
        event_name="lockt_record.batch_linked",
        actor=actor,
        property_id=account.property_id,
        payload={
            "accountId": str(account.pk),
            "kind": kind,
            "links": [{"externalId": link.external_id, "objectId": str(link.object_id)} for link in links],
        },
    )
    return links, records


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
        LocktRecord.objects.filter(pk=record.id).update(updated_at=timezone.now(), **wanted)


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
    wanted["digest"] = ""  # applied again at the next poll
    if record is None:
        record = LocktRecord.objects.create(
            account=account, kind=kind, external_id=external_id, label=label[:300], updated_at=timezone.now(), **wanted
        )
        state.records[kind, external_id] = record
    else:
        for name, v in wanted.items():
            setattr(record, name, v)
        LocktRecord.objects.filter(pk=record.id).update(updated_at=timezone.now(), **wanted)
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


def record_delete(state: State, key: tuple[str, str]) -> None:
    """Forget a record here and in the database (its credential row goes with it, by cascade)."""
    record = state.records.pop(key, None)
    if record is not None:
        LocktRecord.objects.filter(pk=record.id).delete()


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
