"""syncLock: the lock's signed request in, its logs and acknowledgement stored, a signed answer out.

PROTOCOL.md §6.4–§6.6, §8, §9. Order of checks (each failure is an error that changes
nothing): signature by the lock's own lockKey → lockId → the lock is in a property →
syncSequence above the last accepted (replay) → syncDate within the allowed clock skew
(else a 400 carrying signed server time) → currentKeyMapVersion not below what the lock
reported before (rollback) → the acknowledgement (signature, version, digest of the map as
signed) → the sealed access logs (open, strict parse, sequence order). Only then is anything
written, in one transaction.

A lock running a version above any this server has signed for it (PROTOCOL.md §9.6) means
the server's records are older than the lock: restored from a backup. The server takes the
lock's version as its own floor, so the next key map it signs is above it and the lock
accepts it; the event `lock.key_map_version_ahead` says it happened.

At request time exactly one signature is made: the small response payload (server time, the
lock's nonce, versions). The key map travels as stored, signed once by the worker.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import ApplicationError
from apps.core.prepared import PreparedUpdate
from apps.events.services import event_append
from apps.firmware.selectors import required_firmware_version
from apps.keys import canonical, crypto
from apps.keys.services import key_private
from apps.locks import protocol, signing
from apps.locks.models import Lock, LockAck, SignedKeyMap
from apps.locks.services.access_logs import access_logs_store, missing_ranges_of
from apps.locks.services.health import lock_health_record
from apps.locks.services.key_maps import key_maps_request

logger = logging.getLogger("keyhouse.locks")


@dataclass(frozen=True)
class SyncOutcome:
    """What the view sends: `data` (the signed payload), its `signatures`, and the stored key
    map envelope when the lock is behind (else None)."""

    data: dict
    signatures: dict
    key_map: dict | None


def _refuse(field: str, message: str, *, status: int = 400, extra: dict | None = None):
    raise ApplicationError(f"{field}: {message}", fields={field: [message]}, extra=extra, status=status)


def _verify(payload, signatures, context: str, keys: list[bytes], *, field: str, status: int) -> None:
    try:
        canonical.verify_signatures(payload, signatures, context, keys)
    except canonical.MalformedMessage as exc:
        _refuse(field, f"malformed: {exc}")
    except crypto.InvalidSignature:
        _refuse(field, "not signed by this lock's lockKey (missing, bad, or another key's signature)", status=status)


def _sync_date_read(text) -> tuple[dt.datetime | None, str]:
    """The lock's syncDate, or None and what is wrong with it."""
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None, "Must be an ISO-8601 timestamp."
    if value.tzinfo is None:
        return None, "Must carry Z or an offset."
    return value, ""


def _sync_date(text) -> dt.datetime:
    value, problem = _sync_date_read(text)
    if value is None:
        _refuse("syncDate", problem)
    return value


def _clock_refusal(lock: Lock, payload: dict, keys: signing.PropertySigners, *, skew: float, now) -> None:
    signed = {
        "lockId": str(lock.pk),
        "nonce": payload["nonce"],
        "syncSequence": payload["syncSequence"],
        "serverTime": protocol.unix(now),
        "accepted": False,
        "reason": "clock-skew",
    }
    envelope = {"payload": signed, "signatures": keys.sign(signed, canonical.CONTEXT_LOCK_SYNC_RESPONSE)}
    limit = settings.KEYHOUSE_LOCK_CLOCK_SKEW_SECONDS
    _refuse(
        "syncDate",
        f"the lock's clock is {int(skew)} s off server time (at most {limit} s allowed); set it from the signed "
        "data.serverTime and sync again",
        extra={"serverTime": envelope},
    )


def _ack_check(lock: Lock, ack, *, current: int, keys: list[bytes]) -> dict | None:
    if ack is None:
        return None
    try:
        payload = protocol.ack_check(ack, lock_id=str(lock.pk))
    except protocol.ProtocolError as exc:
        _refuse(exc.field, exc.message)
    _verify(payload, ack["signatures"], canonical.CONTEXT_LOCK_ACK, keys, field="ack.signatures", status=400)
    version = payload["keyMapVersion"]
    if version > current:
        _refuse("ack.payload.keyMapVersion", f"acknowledges version {version} but the lock reports running {current}")
    stored = SignedKeyMap.objects.filter(lock=lock, version=version).values_list("payload_digest", flat=True).first()
    if stored is None or stored != payload["keyMapDigest"]:
        _refuse("ack.payload.keyMapDigest", f"does not match key-map version {version} as signed for this lock")
    if version < lock.applied_key_map_version:
        _refuse(
            "ack.payload.keyMapVersion",
            f"version rollback: acknowledges {version} after {lock.applied_key_map_version}",
            status=409,
        )
    return payload


def _logs_open(lock: Lock, payload: dict) -> list[dict]:
    blob = payload.get("encryptedAccessLogs")
    if not blob:
        return []
    seal_key = signing.property_seal_key_for(lock.property_id, payload.get("accessLogsKid"))
    if seal_key is None:
        _refuse("accessLogsKid", "names no sealing key of the lock's property")
    try:
        sealed = crypto.b64url_decode(blob)
    except ValueError:
        _refuse("encryptedAccessLogs", "Must be base64url without padding.")
    try:
        plaintext = crypto.unseal(
            key_private(key=seal_key),
            sealed,
            info=canonical.CONTEXT_SEAL_ACCESS_LOGS,
            aad=protocol.access_logs_aad(str(lock.pk), payload["syncSequence"]),
        )
    except crypto.SealError:
        _refuse(
            "encryptedAccessLogs",
            "cannot be opened: tampered, sealed to another key, or sealed for another lock or sync",
        )
    try:
        return protocol.access_logs_parse(plaintext, max_logs=settings.KEYHOUSE_LOCK_ACCESS_LOGS_MAX)
    except protocol.ProtocolError as exc:
        _refuse(exc.field, exc.message)


def _health_record(lock: Lock, payload: dict, *, actor: str, now: dt.datetime) -> None:
    """What a protocol-1.1 lock reports about itself (§6.4.1): its health, source `keyhouse`,
    contact now; held open after KEYHOUSE_LOCK_HELD_OPEN_SECONDS. A request without either
    member reports nothing and costs no query."""
    lock_health_record(
        lock=lock,
        source="keyhouse",
        actor=actor,
        door_state=payload.get("doorState") or "unknown",
        held_open_after_seconds=settings.KEYHOUSE_LOCK_HELD_OPEN_SECONDS,
        battery_level=payload.get("batteryLevel"),
        last_contact_at=now,
        now=now,
    )


def _answer(lock: Lock, payload: dict, keys: signing.PropertySigners, *, now, stored=0, duplicates=0) -> SyncOutcome:
    """The signed answer (§6.6), with the stored key map when the lock is behind."""
    current = payload["currentKeyMapVersion"]
    key_map, key_map_digest = None, None
    if lock.signed_key_map_version > current:
        stored_map = SignedKeyMap.objects.filter(lock=lock, version=lock.signed_key_map_version).first()
        if stored_map is not None:
            key_map = {"payload": stored_map.payload, "signatures": stored_map.signatures}
            key_map_digest = stored_map.payload_digest
    data = {
        "lockId": str(lock.pk),
        "nonce": payload["nonce"],
        "syncSequence": payload["syncSequence"],
        "serverTime": protocol.unix(now),
        "accepted": True,
        "keyMapVersion": lock.signed_key_map_version,
        "keyMapDigest": key_map_digest,
        "encryptedKeyMapEntries": None,
        "requiredFirmwareVersion": required_firmware_version(lock=lock),
        "acknowledgedKeyMapVersion": lock.applied_key_map_version,
        "accessLogs": {
            "stored": stored,
            "duplicates": duplicates,
            "highestSequence": lock.access_log_high_sequence,
            "missing": missing_ranges_of(lock),
        },
    }
    return SyncOutcome(data=data, signatures=keys.sign(data, canonical.CONTEXT_LOCK_SYNC_RESPONSE), key_map=key_map)


_QUIET = PreparedUpdate(  # the quiet sync's one UPDATE, its SQL written once per process
    Lock,
    where=(
        "pk",
        "deprovisioned_at__isnull",
        "last_sync_sequence__lt",
        "reported_key_map_version",
        "signed_key_map_version__gte",
        "current_firmware_version",
    ),
    fields=("last_sync_sequence", "last_known_sync_date"),
)


def _quiet_sync(lock: Lock, payload: dict, *, now) -> bool:
    """A sync that reports nothing new (no logs, no ack, no health; the versions and firmware the
    server already has on record) is recorded by one conditional UPDATE, without a transaction
    or a row lock: it writes only the sequence and the sync date, so no event. The conditions
    are the full path's checks (replay, rollback, lock ahead, deprovisioned) turned into a WHERE
    clause, so a concurrent sync or change cannot slip between the check and the write. False
    when the row did not match: the full path then runs the same checks and refuses or records.

    The answer uses the lock's row as authentication read it in this request (versions,
    highest log sequence, open gaps): the same moment the locked read would see, give or take
    the request's own milliseconds."""
    if payload.get("ack") or payload.get("encryptedAccessLogs") or "batteryLevel" in payload or "doorState" in payload:
        return False
    sync_date, _ = _sync_date_read(payload["syncDate"])
    if sync_date is None:  # naive or malformed: the full path names the problem
        return False
    if abs((sync_date - now).total_seconds()) > settings.KEYHOUSE_LOCK_CLOCK_SKEW_SECONDS:
        return False
    current = payload["currentKeyMapVersion"]
    matched = _QUIET.run(
        (lock.pk, payload["syncSequence"], current, current, payload["currentFirmwareVersion"]),
        (payload["syncSequence"], now),
    )
    if matched:
        lock.last_sync_sequence, lock.last_known_sync_date = payload["syncSequence"], now
    return bool(matched)


def lock_sync(*, lock: Lock, body: dict, now: dt.datetime | None = None) -> SyncOutcome:
    """syncLock (PROTOCOL.md §6.4): verify, store, answer. `body` is the strictly parsed request
    (payload members plus `signatures`), already checked for shape by the view's serializer.
    Events: `lock.synced` when logs, versions or firmware changed; `lock.key_map_acknowledged`
    when the acknowledged version rose."""

    now = now or timezone.now()
    payload = {name: value for name, value in body.items() if name != "signatures"}
    sync_keys = signing.lock_sync_keys(lock)  # the lock's key and the property's signers, one query
    lock_keys = sync_keys.lock_keys
    # 401 like a device's bad deviceSignature (§7.3): the secret was fine, the lock's signature is not
    _verify(
        payload, body.get("signatures"), canonical.CONTEXT_LOCK_SYNC_REQUEST, lock_keys, field="signatures", status=401
    )
    if payload["lockId"] != str(lock.pk):
        _refuse("lockId", "the request is signed for another lock")
    if lock.property_id is None:
        _refuse("lockId", "the lock is in no property: install it before it syncs", status=409)
    keys = sync_keys.signers or signing.property_signers(lock.property_id)  # generated on first use
    sequence, current = payload["syncSequence"], payload["currentKeyMapVersion"]
    actor = f"lock:{lock.pk}"
    if _quiet_sync(lock, payload, now=now):
        return _answer(lock, payload, keys, now=now)

    with transaction.atomic():
        lock = (
            Lock.objects.select_for_update(of=("self",))
            .select_related("area")
            .filter(pk=lock.pk, deprovisioned_at__isnull=True)
            .first()
        )
        if lock is None:  # deprovisioned since its keys were read
            raise ApplicationError("not found", status=404)
        if sequence <= lock.last_sync_sequence:
            _refuse(
                "syncSequence",
                f"replayed or stale request: {sequence} is not above the last accepted {lock.last_sync_sequence}",
                status=409,
            )
        skew = (_sync_date(payload["syncDate"]) - now).total_seconds()
        if abs(skew) > settings.KEYHOUSE_LOCK_CLOCK_SKEW_SECONDS:
            _clock_refusal(lock, payload, keys, skew=skew, now=now)
        if current < lock.reported_key_map_version:
            _refuse(
                "currentKeyMapVersion",
                f"version rollback: the lock reports {current} after {lock.reported_key_map_version}",
                status=409,
            )
        ahead_of = lock.signed_key_map_version if current > lock.signed_key_map_version else None
        # An acknowledgement of a map this server holds no record of cannot be checked: ignored.
        ack = None if ahead_of is not None else _ack_check(lock, payload.get("ack"), current=current, keys=lock_keys)
        logs = _logs_open(lock, payload)

        stored, duplicates, holes = access_logs_store(lock, logs, actor=actor)
        acknowledged = ack is not None and ack["keyMapVersion"] > lock.applied_key_map_version
        if acknowledged:
            LockAck.objects.create(
                lock=lock,
                version=ack["keyMapVersion"],
                applied_at=protocol.from_unix(ack["appliedAt"]),
                payload=ack,
                signatures=payload["ack"]["signatures"],
            )
            lock.applied_key_map_version, lock.applied_at = ack["keyMapVersion"], now
        firmware_changed = payload["currentFirmwareVersion"] != lock.current_firmware_version
        version_changed = current != lock.reported_key_map_version
        lock.last_sync_sequence, lock.last_known_sync_date = sequence, now
        lock.reported_key_map_version, lock.current_firmware_version = current, payload["currentFirmwareVersion"]
        if ahead_of is not None:
            # the lock's map is unknown here: the next build signs current + 1, whatever its content
            lock.signed_key_map_version, lock.signed_key_map_digest = current, ""
        lock.save(
            update_fields=[
                "signed_key_map_version",
                "signed_key_map_digest",
                "last_sync_sequence",
                "last_known_sync_date",
                "reported_key_map_version",
                "current_firmware_version",
                "applied_key_map_version",
                "applied_at",
                "access_log_high_sequence",
                "last_known_access_date",
                "open_access_log_gaps",
            ]
        )
        refs = {"lock_id": lock.pk, "property_id": lock.property_id, "area_id": lock.area_id}
        if ahead_of is not None:
            logger.warning(
                "lock %s runs key-map version %s, above the %s this server signed for it: the server's "
                "records are older than the lock (restored from a backup?); signing above it",
                lock.pk,
                current,
                ahead_of,
            )
            event_append(
                event_name="lock.key_map_version_ahead",
                actor=actor,
                payload={"currentKeyMapVersion": current, "serverKeyMapVersion": ahead_of},
                **refs,
            )
            key_maps_request(lock_ids={lock.property_id: [lock.pk]}, reason="lock ahead of the server")
        if acknowledged:
            event_append(
                event_name="lock.key_map_acknowledged",
                actor=actor,
                payload={"keyMapVersion": lock.applied_key_map_version, "appliedAt": ack["appliedAt"]},
                **refs,
            )
        if stored or duplicates or firmware_changed or version_changed:
            event_append(
                event_name="lock.synced",
                actor=actor,
                payload={
                    "syncSequence": sequence,
                    "currentKeyMapVersion": current,
                    "currentFirmwareVersion": lock.current_firmware_version,
                    "accessLogs": {"stored": stored, "duplicates": duplicates, "newGaps": [list(h) for h in holes]},
                },
                **refs,
            )

        if "batteryLevel" in payload or "doorState" in payload:  # protocol 1.1 (§6.4.1)
            _health_record(lock, payload, actor=actor, now=now)

    return _answer(lock, payload, keys, now=now, stored=stored, duplicates=duplicates)
