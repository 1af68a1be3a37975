"""A lock's access logs stored: those a syncing lock sent (PROTOCOL.md §6.5, sequence gaps
tracked) and those a remote system reported for a lock it manages (a Lockt door event)."""

from django.db import transaction

from apps.events.services import event_append
from apps.keys.choices import KeyOwnerType, KeyPurpose
from apps.keys.models import Key
from apps.locks import protocol
from apps.locks.constants import MISSING_RANGES_SHOWN
from apps.locks.models import Lock, LockAccessLog, LockAccessLogGap, SignedKeyMap


def _who(lock: Lock, logs: list[dict]) -> dict[tuple[int, str], dict]:
    """(keyMapVersion, kid) → {accessKeyId, userId, userDeviceId, userGroupId} from the key map the
    lock had when it logged; kids not in that map are looked up among registered keys."""
    versions = {log.get("keyMapVersion", 0) for log in logs if log.get("kid")}
    found: dict[tuple[int, str], dict] = {}
    for version, payload in SignedKeyMap.objects.filter(lock=lock, version__in=versions).values_list(
        "version", "payload"
    ):
        for entry in payload.get("entries", ()):
            found.setdefault((version, entry["kid"]), entry)
    unknown = {log["kid"] for log in logs if log.get("kid") and (log.get("keyMapVersion", 0), log["kid"]) not in found}
    if unknown:
        for key in Key.objects.filter(kid__in=unknown, purpose=KeyPurpose.DEVICE_ACCESS_KEY):
            owner = str(key.owner_id)
            entry = {
                "accessKeyId": str(key.pk),
                "userId": owner if key.owner_type == KeyOwnerType.USER else None,
                "userDeviceId": owner if key.owner_type == KeyOwnerType.USER_DEVICE else None,
            }
            for log in logs:
                if log.get("kid") == key.kid:
                    found.setdefault((log.get("keyMapVersion", 0), key.kid), entry)
    return found


def _gaps_update(lock: Lock, sequences: list[int]) -> list[tuple[int, int]]:
    """Fill known gaps with late arrivals, record new holes above the highest sequence seen, and
    keep `lock.open_access_log_gaps` (saved by the caller) their number. Returns the new holes."""
    if not sequences:
        return []
    low, high = sequences[0], sequences[-1]
    for gap in LockAccessLogGap.objects.filter(lock=lock, first_sequence__lte=high, last_sequence__gte=low):
        inside = [s for s in sequences if gap.first_sequence <= s <= gap.last_sequence]
        if not inside:
            continue
        remaining = protocol.missing_ranges(gap.first_sequence, inside, up_to=gap.last_sequence)
        gap.delete()
        LockAccessLogGap.objects.bulk_create(
            LockAccessLogGap(lock=lock, first_sequence=a, last_sequence=b) for a, b in remaining
        )
        lock.open_access_log_gaps += len(remaining) - 1
    above = [s for s in sequences if s > lock.access_log_high_sequence]
    holes = protocol.missing_ranges(lock.access_log_high_sequence + 1, above, up_to=above[-1]) if above else []
    LockAccessLogGap.objects.bulk_create(
        LockAccessLogGap(lock=lock, first_sequence=a, last_sequence=b) for a, b in holes
    )
    lock.open_access_log_gaps += len(holes)
    return holes


def access_logs_store(lock: Lock, logs: list[dict], *, actor: str) -> tuple[int, int, list]:
    """Store new logs (a sequence already stored is a duplicate, ignored); returns
    (stored, duplicates, new gaps)."""
    if not logs:
        return 0, 0, []
    sequences = [log["sequence"] for log in logs]
    existing = set(LockAccessLog.objects.filter(lock=lock, sequence__in=sequences).values_list("sequence", flat=True))
    fresh = [log for log in logs if log["sequence"] not in existing]
    who = _who(lock, fresh)
    rows = []
    for log in fresh:
        entry = who.get((log.get("keyMapVersion", 0), log.get("kid")), {}) if log.get("kid") else {}
        rows.append(
            LockAccessLog(
                lock=lock,
                sequence=log["sequence"],
                access_date=protocol.from_unix(log["accessDate"]),
                result=log["result"],
                reason=log["reason"],
                kid=log.get("kid") or "",
                access_key_id=entry.get("accessKeyId"),
                user_id=entry.get("userId"),
                user_device_id=entry.get("userDeviceId"),
                user_group_id=log.get("userGroupId") or entry.get("userGroupId"),
                property_id=lock.property_id,
                area_id=lock.area_id,
                key_map_version=log.get("keyMapVersion", 0),
                device_signature_failure=bool(log.get("deviceSignatureFailure", False)),
                # §6.5: kept only with a signature failure, never on a granted log
                device_signature=(log.get("deviceSignature") or "") if log.get("deviceSignatureFailure") else "",
                last_modified_by=actor,
            )
        )
    LockAccessLog.objects.bulk_create(rows)
    holes = _gaps_update(lock, sorted(log["sequence"] for log in fresh))
    if fresh:
        lock.access_log_high_sequence = max(lock.access_log_high_sequence, max(sequences))
        newest = protocol.from_unix(max(log["accessDate"] for log in fresh))
        if lock.last_known_access_date is None or newest > lock.last_known_access_date:
            lock.last_known_access_date = newest
    return len(fresh), len(logs) - len(fresh), holes


def missing_ranges_of(lock: Lock) -> list[list[int]]:
    """Open access-log gaps of a lock, oldest first (at most MISSING_RANGES_SHOWN); no query for
    a lock that has none (`open_access_log_gaps`)."""
    if not lock.open_access_log_gaps:
        return []
    return [
        [a, b]
        for a, b in LockAccessLogGap.objects.filter(lock=lock)
        .order_by("first_sequence")
        .values_list("first_sequence", "last_sequence")[:MISSING_RANGES_SHOWN]
    ]


@transaction.atomic
def lock_access_logs_import(*, lock: Lock, logs: list[dict], source: str, actor: str) -> int:
    """Access logs a remote system reported for one of its locks (a Lockt door event): each
    `{"sequence": <the remote's event id>, "access_date", "result", "reason", "user_id"?}`.
    The remote's id is the log's sequence, so a log imported twice is stored once (the lock's
    own sequence counters and gaps are not touched: such a lock never syncs with Keyhouse).
    Event `lock.access_logs_imported` with the count. Returns the number stored."""
    if not logs:
        return 0
    sequences = [log["sequence"] for log in logs]
    existing = set(LockAccessLog.objects.filter(lock=lock, sequence__in=sequences).values_list("sequence", flat=True))
    fresh = {log["sequence"]: log for log in logs if log["sequence"] not in existing}
    LockAccessLog.objects.bulk_create(
        LockAccessLog(
            lock=lock,
            sequence=log["sequence"],
            access_date=log["access_date"],
            result=log["result"],
            reason=log["reason"][:32],
            user_id=log.get("user_id"),
            property_id=lock.property_id,
            area_id=lock.area_id,
            last_modified_by=actor,
        )
        for log in fresh.values()
    )
    if fresh:
        newest = max(log["access_date"] for log in fresh.values())
        if lock.last_known_access_date is None or newest > lock.last_known_access_date:
            Lock.objects.filter(pk=lock.pk).update(last_known_access_date=newest)
        event_append(
            event_name="lock.access_logs_imported",
            actor=actor,
            lock_id=lock.pk,
            property_id=lock.property_id,
            payload={"source": source, "count": len(fresh)},
        )
    return len(fresh)
