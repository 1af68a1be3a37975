"""Lockt credentials and fobs → read-only credential records on their holders, and fob
reassignment pushed back with `PUT /fob` (docs/INTEGRATIONS.md "Lockt credentials and fobs").

The poll reads `GET /credential` (card credentials and fobs, with their holder) and `GET /fob`
(the fob flag and access window; a fob read names no holder) before any write; after the users
are reconciled, `lockt_credentials_apply` merges the two by id into one `LocktCredential` per
record (kind `fob` when `/fob` lists it, else `credential`). Idempotent like the rest: the
record's `LocktRecord` keeps the digest of what was applied (the raw records plus the holder's
Keyhouse id), and an unchanged digest writes nothing. A record Lockt no longer lists is removed.

Card numbers never reach logs, events or pages: only the last 4 digits are kept, and a name
that is the card number itself (Lockt names card credentials so) is kept masked too.

A fob moved to another person in Keyhouse (`lockt_fob_reassign`) is marked pending and a poll
is requested; the poll's push phase (`lockt_fobs_push`, after the users' push) sends
`PUT /fob` (`user_id` 0 = unassigned) and clears the mark. Until then a poll keeps the local
holder (Keyhouse owns the change); a refused push fails the fob's record with Lockt's reason.
"""

import dataclasses
import logging
import zoneinfo

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.exceptions import ApplicationError
from apps.core.models import ExternalRef
from apps.events.services import event_append
from apps.integrations.http import IntegrationError
from apps.integrations.lockt import mapping
from apps.integrations.lockt.client import LocktBatchFailed, LocktClient
from apps.integrations.lockt.sync import (
    KINDS,
    SOURCE,
    LocktSync,
    RecordFailed,
    _record_ok,
    lockt_record_fail,
    record_delete,
)
from apps.integrations.mapping import MappingError
from apps.integrations.models import LocktCredential, LocktCredentialClaim, LocktRecord

logger = logging.getLogger("keyhouse.integrations.lockt")

CREDENTIAL_KINDS = (KINDS.CREDENTIAL, KINDS.FOB)
CREDENTIALS_BATCH = 500  # new credentials per transaction (docs/INTEGRATIONS.md "Lockt credentials and fobs")
PUT_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # spec F29 example, in the site's zone


def card_last4(card_number: str | None) -> str:
    return (card_number or "")[-4:]


def masked(card_number: str | None) -> str:
    return f"\u2022\u2022\u2022\u2022{card_last4(card_number)}" if card_number else ""


def _shown_name(values: mapping.CredentialValues) -> str:
    """The name as Keyhouse keeps it: masked when it is the card number (Lockt's card credentials)."""
    if values.card_number and values.name.strip() == values.card_number:
        return masked(values.card_number)
    return values.name[:200]


def _payload(account, record: LocktRecord, credential: LocktCredential | None = None) -> dict:
    payload = {"accountId": str(account.pk), "kind": record.kind, "externalId": record.external_id}
    if credential is not None:
        payload["holderId"] = str(credential.holder_id) if credential.holder_id else None
    return payload


def _fields(values: mapping.CredentialValues, holder_id) -> dict:
    """A credential's stored fields, as Lockt says (the card number reduced to its last 4)."""
    return {
        "holder_id": holder_id,
        "holder_external_id": values.holder_external_id,
        "name": _shown_name(values),
        "card_last4": card_last4(values.card_number),
        "claim_status": {True: LocktCredentialClaim.CLAIMED, False: LocktCredentialClaim.UNCLAIMED}.get(
            values.claimed, LocktCredentialClaim.UNKNOWN
        ),
        "fob": values.fob,
        "valid_from": values.valid_from,
        "valid_until": values.valid_until,
    }


@transaction.atomic
def lockt_credential_apply(
    *, sync: LocktSync, kind: str, values: mapping.CredentialValues, holder_id, digest: str
) -> str:
    """Store one credential or fob as Lockt says (event `lockt_credential.updated`); returns
    `created` or `updated`."""
    account, external_id = sync.account, str(values.external_id)
    label = _shown_name(values)
    _record_ok(account, sync.state, kind, external_id, digest=digest, label=label)
    record = sync.state.records[kind, external_id]
    credential, created = LocktCredential.objects.update_or_create(
        record_id=record.id, defaults=_fields(values, holder_id)
    )
    event_append(
        event_name="lockt_credential.updated",
        actor=sync.actor,
        property_id=account.property_id,
        payload=_payload(account, record, credential),
    )
    return "created" if created else "updated"


@transaction.atomic
def lockt_credentials_create(*, sync: LocktSync, batch: list[tuple]) -> list[LocktRecord]:
    """Credentials and fobs new to Keyhouse, at once: their records, the credentials and one
    event for them all (`lockt_credential.batch_created`: kind, Lockt id and holder id of each),
    in one transaction (a first poll brings one per person).
    `batch` holds (kind, values, holder id, digest); the records are returned for the poll's
    state, which the caller updates once this has committed."""
    account, now = sync.account, timezone.now()
    records, credentials = [], []
    for kind, values, holder_id, digest in batch:
        record = LocktRecord(
            account=account,
            kind=kind,
            external_id=str(values.external_id),
            digest=digest,
            label=_shown_name(values)[:300],
            status="synced",
            updated_at=now,
        )
        records.append(record)
        credentials.append(LocktCredential(record=record, **_fields(values, holder_id)))
    LocktRecord.objects.bulk_create(records, batch_size=500)
    LocktCredential.objects.bulk_create(credentials, batch_size=500)
    event_append(
        event_name="lockt_credential.batch_created",
        actor=sync.actor,
        property_id=account.property_id,
        payload={
            "accountId": str(account.pk),
            "credentials": [
                {key: value for key, value in _payload(account, record, credential).items() if key != "accountId"}
                for record, credential in zip(records, credentials, strict=True)
            ],
        },
    )
    return records


def _credentials_batch(sync: LocktSync, batch: list[tuple]) -> None:
    """Create a batch of new credentials; if the batch is refused, each is applied alone, so a
    bad one fails by itself."""
    try:
        records = lockt_credentials_create(sync=sync, batch=batch)
    except (IntegrityError, ValidationError) as exc:
        logger.warning(
            "lockt account %s: a batch of %d credentials applied one by one: %s", sync.account.pk, len(batch), exc
        )
        for kind, values, holder_id, digest in batch:
            sync._count(lockt_credential_apply(sync=sync, kind=kind, values=values, holder_id=holder_id, digest=digest))
        return
    for record in records:
        sync.state.records[record.kind, record.external_id] = record
        sync._count("created")


@transaction.atomic
def lockt_credential_remove(*, sync: LocktSync, record: LocktRecord) -> None:
    """A credential or fob Lockt no longer lists: its record goes (event `lockt_credential.removed`)."""
    event_append(
        event_name="lockt_credential.removed",
        actor=sync.actor,
        property_id=sync.account.property_id,
        payload=_payload(sync.account, record),
    )
    record_delete(sync.state, (record.kind, record.external_id))


def _fail(sync: LocktSync, kind: str, external_id: str, error: MappingError) -> None:
    lockt_record_fail(
        account=sync.account,
        state=sync.state,
        kind=kind,
        external_id=external_id,
        label="",  # a label could be the card number: the admin names it by its id
        error=RecordFailed.of(error),
    )
    sync._count("failed")


def _raw_id(record) -> str | None:
    raw = record.get("id") if isinstance(record, dict) else None
    return str(raw) if raw not in (None, "") and str(raw).isdigit() else None


def lockt_credentials_apply(*, sync: LocktSync, credentials: list, fobs: list) -> None:
    """Reconcile the polled credentials and fobs (after the users, so holders resolve)."""
    fob_records = {rid: r for r in fobs if (rid := _raw_id(r)) is not None}
    pending = set(
        LocktCredential.objects.filter(record__account=sync.account, reassign_pending=True).values_list(
            "record__external_id", flat=True
        )
    )
    seen: set[tuple[str, str]] = set()
    fresh: list[tuple] = []  # new here: created in batches after the loop
    items = [(r, fob_records.get(_raw_id(r) or "")) for r in credentials]
    listed = {_raw_id(r) for r in credentials}
    items += [(None, r) for rid, r in fob_records.items() if rid not in listed]  # fobs /credential left out
    sync.counts.fetched += len(items)
    for index, (raw, fob_raw) in enumerate(items):
        kind = KINDS.FOB if fob_raw is not None else KINDS.CREDENTIAL
        external_id = _raw_id(raw if raw is not None else fob_raw) or f"#{index}"
        seen.add((kind, external_id))
        try:
            values = mapping.credential_from_lockt(raw) if raw is not None else None
            if fob_raw is not None:
                holder = values.holder_external_id if values else None
                fob = mapping.fob_from_lockt(fob_raw, site_tz=sync.site_tz, holder_external_id=holder)
                claimed = values.claimed if values else None
                values = dataclasses.replace(fob, claimed=claimed)
        except MappingError as exc:
            _fail(sync, kind, external_id, exc)
            continue
        if external_id in pending:  # reassigned here, not pushed yet: Keyhouse's change stands
            sync._count("unchanged")
            continue
        holder_id = None
        if values.holder_external_id is not None:
            holder_id = sync._object_id(KINDS.USER, str(values.holder_external_id))
        digest = mapping.record_digest({"credential": raw, "fob": fob_raw, "holder": str(holder_id)})
        record = sync.state.records.get((kind, external_id))
        if record is None:
            fresh.append((kind, values, holder_id, digest))
            continue
        if record.digest == digest and record.status == "synced":
            sync._count("unchanged")
            continue
        sync._count(lockt_credential_apply(sync=sync, kind=kind, values=values, holder_id=holder_id, digest=digest))
    for start in range(0, len(fresh), CREDENTIALS_BATCH):
        _credentials_batch(sync, fresh[start : start + CREDENTIALS_BATCH])
    gone = [
        record
        for (kind, external_id), record in list(sync.state.records.items())
        if kind in CREDENTIAL_KINDS and (kind, external_id) not in seen
    ]
    if gone and not items:  # as for the other kinds: an empty answer never removes everything
        logger.warning("lockt account %s: no credential or fob listed; %d kept", sync.account.pk, len(gone))
        gone = []
    for record in gone:
        lockt_credential_remove(sync=sync, record=record)
        sync._count("updated")
    sync.flush()


# --- fob reassignment ---------------------------------------------------------------------------


def _lockt_user_id(account, user: User) -> int | None:
    external_id = (
        ExternalRef.objects.filter(
            account_id=account.pk,
            source=SOURCE,
            content_type=ContentType.objects.get_for_model(User),
            object_id=user.pk,
        )
        .values_list("external_id", flat=True)
        .first()
    )
    return int(external_id) if external_id and external_id.isdigit() else None


@transaction.atomic
def lockt_fob_reassign(*, credential: LocktCredential, holder: User | None, actor: str) -> LocktCredential:
    """Move a Lockt fob to another person (or to nobody) in Keyhouse (event
    `lockt_fob.reassigned`); a poll is requested, whose push sends `PUT /fob`. The new holder
    must be a Lockt user of the fob's account."""
    from apps.integrations import services as integration_services

    credential = LocktCredential.objects.select_related("record__account").select_for_update().get(pk=credential.pk)
    account = credential.record.account
    if not credential.fob:
        raise ApplicationError("Only a fob can be reassigned.", fields={"credential": ["Is not a fob."]})
    holder_external_id = None
    if holder is not None:
        holder_external_id = _lockt_user_id(account, holder)
        if holder_external_id is None:
            message = f"{holder.display_name} is not a Lockt user of {account.display_name}."
            raise ApplicationError(message, fields={"holder": [message]})
    previous = credential.holder_id
    credential.holder = holder
    credential.holder_external_id = holder_external_id
    credential.reassign_pending = True
    credential.save(update_fields=["holder", "holder_external_id", "reassign_pending"])
    LocktRecord.objects.filter(pk=credential.record_id).update(digest="")  # applied again after the push
    event_append(
        event_name="lockt_fob.reassigned",
        actor=actor,
        property_id=account.property_id,
        payload={
            **_payload(account, credential.record, credential),
            "previousHolderId": str(previous) if previous else None,
        },
    )
    integration_services.integration_account_poll_request(account=account, actor=actor)
    return credential


def _messages(exc: LocktBatchFailed) -> str:
    return "; ".join(m for error in exc.errors for m in error.messages) or " ".join(exc.result)


def _put_item(credential: LocktCredential, zone) -> dict:
    item = {"id": int(credential.record.external_id), "user_id": credential.holder_external_id or 0}  # 0: unassign
    for key, value in (("access_effective", credential.valid_from), ("access_expires", credential.valid_until)):
        if value is not None:
            item[key] = value.astimezone(zone).strftime(PUT_TIME_FORMAT)
    return item


@transaction.atomic
def lockt_fob_pushed(*, sync: LocktSync, credential: LocktCredential) -> None:
    """Lockt took the reassignment (event `lockt_fob.pushed`)."""
    LocktCredential.objects.filter(pk=credential.pk).update(reassign_pending=False)
    event_append(
        event_name="lockt_fob.pushed",
        actor=sync.actor,
        property_id=sync.account.property_id,
        payload=_payload(sync.account, credential.record, credential),
    )


def lockt_fobs_push(*, sync: LocktSync, client: LocktClient) -> None:
    """Send each fob reassigned in Keyhouse with `PUT /fob`, one at a time (a refusal fails that
    fob's record with Lockt's reason; the others go on)."""
    zone = zoneinfo.ZoneInfo(sync.site_tz)
    pending = LocktCredential.objects.filter(record__account=sync.account, reassign_pending=True).select_related(
        "record"
    )
    for credential in pending:
        item = _put_item(credential, zone)
        try:
            client.fobs_reassign([item])
        except LocktBatchFailed as exc:
            lockt_record_fail(
                account=sync.account,
                state=sync.state,
                kind=credential.record.kind,
                external_id=credential.record.external_id,
                label=credential.name,
                error=RecordFailed("push", item["user_id"], f"Lockt refused it: {_messages(exc)}"),
            )
            sync._count("failed")
            continue
        except IntegrationError:
            raise  # transport: the poll fails and retries; the mark stays
        lockt_fob_pushed(sync=sync, credential=credential)
        sync._count("updated")
