"""PURE: the lock messages of docs/PROTOCOL.md §6, §8 and §9, built and checked without Django.

Only the standard library, apps.keys (canonical, crypto) and apps.access.schedules are used,
so the formats can be tested alone and a reader can compare this file with PROTOCOL.md.

- Key maps (§6.3): `key_map_content` is what a lock enforces (entries per device key,
  free-passage windows, denied kids, the trusted property keys). Its SHA-256 decides whether a
  new version is needed; `key_map_payload` adds version, times and the schedules expanded to
  absolute UTC intervals, so a lock needs no calendar or time-zone data.
- Lock commands (§6.2), sync responses (§6.6), acknowledgements (§8), access logs (§6.5):
  field lists and the checks the server runs on what a lock sends.
"""

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from apps.access import schedules as sched
from apps.keys import canonical, crypto

GROUP, USER, OPEN, DENY = "group", "user", "open", "deny"

# Access-log reasons a lock reports (§6.5); the order of checks that yields them is §9.3.
GRANTED_REASONS = ("unlock", "free-passage")
DENIED_REASONS = (
    "no-key-map",
    "key-map-expired",
    "malformed",
    "wrong-lock",
    "bad-nonce",
    "clock-skew",
    "unknown-key",
    "denied-key",
    "bad-signature",
    "not-valid-yet",
    "expired",
    "outside-schedule",
)
LOG_FIELDS_REQUIRED = ("sequence", "accessDate", "result", "reason")
LOG_FIELDS_OPTIONAL = ("kid", "userGroupId", "keyMapVersion", "deviceSignatureFailure", "deviceSignature")
COMMANDS = ("provision", "install", "uninstall", "state")
NONCE_MIN_BYTES, NONCE_MAX_BYTES = 16, 64


class ProtocolError(ValueError):
    """A lock message breaks the protocol; `field` names where (`encryptedAccessLogs`, `ack`)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- times ---------------------------------------------------------------------------------


def unix(value: dt.datetime) -> int:
    """Whole Unix seconds (floor) of an aware datetime."""
    return math.floor(value.timestamp())


def unix_ceil(value: dt.datetime) -> int:
    return math.ceil(value.timestamp())


def from_unix(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


# --- schedules as intervals ------------------------------------------------------------------


def schedule_from_content(content: Mapping | None) -> sched.Schedule | None:
    """derive.schedule_content() → a pure Schedule (None for a schedule that no longer exists)."""
    if not content:
        return None
    bounds = {}
    for field, key in (("valid_from", "validFrom"), ("valid_until", "validUntil")):
        if content.get(key):
            bounds[field] = dt.datetime.fromisoformat(content[key].replace("Z", "+00:00"))
    return sched.Schedule(sched.windows_from_json(content["windows"]), **bounds)


def _transitions(tz: dt.tzinfo, start: int, end: int) -> set[int]:
    """Instants (whole seconds) in [start, end] where the zone's UTC offset changes."""
    found = set()
    step = 3600
    t = start - step
    offset = from_unix(t).astimezone(tz).utcoffset()
    while t < end + step:
        nxt = t + step
        nxt_offset = from_unix(nxt).astimezone(tz).utcoffset()
        if nxt_offset != offset:
            low, high = t, nxt  # offset(low) == offset, offset(high) != offset
            while high - low > 1:
                mid = (low + high) // 2
                if from_unix(mid).astimezone(tz).utcoffset() == offset:
                    low = mid
                else:
                    high = mid
            found.add(high)
        t, offset = nxt, nxt_offset
    return found


def schedule_intervals(schedule: sched.Schedule | None, tz: dt.tzinfo, start: int, end: int) -> list[list[int]]:
    """The instants in [start, end) when `schedule` is open, as sorted, disjoint [from, until)
    pairs of Unix seconds.

    `apps.access.schedules.is_open` stays the one definition of "open": the open state can
    only change at a wall-clock window bound (either fold), local midnight, a UTC-offset
    change or a validity bound, so checking it once after each of those instants is exact.
    """
    if schedule is None or end <= start:
        return []
    candidates = {start, end} | _transitions(tz, start, end)
    first_day = from_unix(start).astimezone(tz).date() - dt.timedelta(days=1)
    last_day = from_unix(end).astimezone(tz).date() + dt.timedelta(days=1)
    seconds = {0}
    for window in schedule.windows:
        seconds |= {window.start, window.stop}
    day = first_day
    while day <= last_day:
        midnight = dt.datetime(day.year, day.month, day.day)
        for second in seconds:
            local = midnight + dt.timedelta(seconds=second)
            for fold in (0, 1):
                candidates.add(unix_ceil(local.replace(tzinfo=tz, fold=fold)))
        day += dt.timedelta(days=1)
    for bound in (schedule.valid_from, schedule.valid_until):
        if bound is not None:
            candidates.add(unix_ceil(bound))
    points = sorted(c for c in candidates if start <= c <= end)
    intervals: list[list[int]] = []
    for left, right in zip(points, points[1:], strict=False):
        if sched.is_open(schedule, from_unix(left), tz) is None:
            continue
        if intervals and intervals[-1][1] == left:
            intervals[-1][1] = right
        else:
            intervals.append([left, right])
    return intervals


# --- key maps --------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Line:
    """One derived line of a lock (apps.access LockAccessEntry), times as Unix seconds."""

    kind: str
    subject_id: str  # group id (group), user id (user, deny), "" (open)
    schedule_id: str  # "" = always
    valid_from: int | None
    valid_until: int | None


def _entry(key: Mapping, *, user_id: str, group_id: str | None, line: Line) -> dict:
    return {
        "kid": key["kid"],
        "publicKey": key["publicKey"],
        "accessKeyId": key.get("keyId"),
        "userId": user_id,
        "userDeviceId": key.get("userDeviceId"),
        "userGroupId": group_id,
        "schedule": line.schedule_id or None,
        "validFrom": line.valid_from,
        "validUntil": line.valid_until,
    }


def _sort_key(item: Mapping) -> str:
    return json.dumps(item, sort_keys=True)


def _entries_sorted(entries: Mapping[tuple, dict]) -> list[dict]:
    """Entries in the order of (kid, `_sort_key`): by kid, and only where one kid has several
    entries (a person named by several lines) by their JSON text. The same order as sorting
    every entry by its JSON text, without writing 500,000 of them on a full build."""
    by_kid: dict[str, list[dict]] = {}
    for item in entries.values():
        by_kid.setdefault(item["kid"], []).append(item)
    ordered = []
    for kid in sorted(by_kid):
        items = by_kid[kid]
        ordered.extend(items if len(items) == 1 else sorted(items, key=_sort_key))
    return ordered


def key_map_content(
    *,
    lock_id: str,
    property_id: str,
    time_zone: str,
    lines: Iterable[Line],
    members: Mapping[str, Iterable[str]],
    keys: Mapping[str, Iterable[Mapping]],
    schedules: Mapping[str, Mapping | None],
    property_keys: Iterable[Mapping],
    property_seal_key: Mapping | None,
    member_windows: Mapping[tuple[str, str], tuple[int | None, int | None]] | None = None,
) -> dict:
    """What a lock enforces (§6.3), without version and times.

    `member_windows` ((group id, user id) -> (validFrom, validUntil) Unix seconds of that
    membership) narrows the member's entries from a `group` line to the later start and the
    earlier end (none when nothing is left), so an offline lock stops admitting them then.

    - `group` lines are expanded to the group's `members`, `user` lines name one person; each
      person contributes one entry per active device access key (`keys[userId]`: kid,
      publicKey, keyId, userDeviceId) with the line's schedule and validity.
    - `deny` lines (blocked people) drop that person's entries and list their kids in
      `deniedKids`, so a lock refuses them even if an older map named them.
    - `open` lines are free-passage windows.
    - `schedules` holds the *definitions* used (for the digest); the payload carries them
      expanded to intervals.
    """
    lines = list(lines)
    denied_users = {line.subject_id for line in lines if line.kind == DENY}
    entries, open_lines, used = {}, {}, set()
    for line in lines:
        if line.kind == OPEN:
            item = {"schedule": line.schedule_id or None, "validFrom": line.valid_from, "validUntil": line.valid_until}
            open_lines[_sort_key(item)] = item
            used.add(line.schedule_id)
            continue
        if line.kind == GROUP:
            people = [(user_id, line.subject_id) for user_id in members.get(line.subject_id, ())]
        elif line.kind == USER:
            people = [(line.subject_id, None)]
        else:
            continue
        for user_id, group_id in people:
            if user_id in denied_users:
                continue
            narrowed = line
            window = (member_windows or {}).get((group_id, user_id)) if group_id else None
            if window:
                starts = [t for t in (line.valid_from, window[0]) if t is not None]
                ends = [t for t in (line.valid_until, window[1]) if t is not None]
                valid_from, valid_until = max(starts, default=None), min(ends, default=None)
                if valid_from is not None and valid_until is not None and valid_from >= valid_until:
                    continue
                narrowed = replace(line, valid_from=valid_from, valid_until=valid_until)
            for key in keys.get(user_id, ()):
                item = _entry(key, user_id=user_id, group_id=group_id, line=narrowed)
                entries[tuple(item.values())] = item  # equal entries once (same keys, same order)
                used.add(line.schedule_id)
    denied = sorted({key["kid"] for user_id in denied_users for key in keys.get(user_id, ())})
    used.discard("")
    return {
        "lockId": lock_id,
        "propertyId": property_id,
        "timeZone": time_zone,
        "propertyKeys": sorted(property_keys, key=lambda k: k["kid"]),
        "propertySealKey": property_seal_key,
        "schedules": {schedule_id: schedules.get(schedule_id) for schedule_id in sorted(used)},
        "entries": _entries_sorted(entries),
        "open": [open_lines[k] for k in sorted(open_lines)],
        "deniedKids": denied,
    }


def content_digest(content: Mapping) -> str:
    """Hex SHA-256 of the canonical content: equal content, equal digest, no new version."""
    return hashlib.sha256(canonical.jcs(content)).hexdigest()


def key_map_payload(content: Mapping, *, version: int, issued_at: int, not_after: int) -> dict:
    """The signed key-map payload (§6.3): content + version and times, schedules as intervals
    over [issuedAt, notAfter] in UTC (the lock needs no time-zone data)."""
    tz = ZoneInfo(content["timeZone"])
    intervals = {
        schedule_id: schedule_intervals(schedule_from_content(definition), tz, issued_at, not_after)
        for schedule_id, definition in content["schedules"].items()
    }
    return {
        "lockId": content["lockId"],
        "propertyId": content["propertyId"],
        "keyMapVersion": version,
        "issuedAt": issued_at,
        "notAfter": not_after,
        "propertyKeys": list(content["propertyKeys"]),
        "propertySealKey": content["propertySealKey"],
        "schedules": intervals,
        "entries": list(content["entries"]),
        "open": list(content["open"]),
        "deniedKids": list(content["deniedKids"]),
    }


def payload_digest(payload: Mapping, *, canonical_bytes: bytes | None = None) -> str:
    """`keyMapDigest` (§8): base64url SHA-256 of the canonical payload (43 characters);
    `canonical_bytes`: `canonical.canonical(payload)` when the caller already has it."""
    data = canonical.canonical(payload) if canonical_bytes is None else canonical_bytes
    return crypto.b64url_encode(hashlib.sha256(data).digest())


def public_key_item(kid: str, public: bytes) -> dict:
    return {"kid": kid, "publicKey": crypto.b64url_encode(public)}


# --- lock commands (§6.2) --------------------------------------------------------------------


def command_payload(
    *,
    command: str,
    lock_id: str,
    lock_kid: str | None,
    property_id: str | None,
    area_id: str | None,
    sequence: int,
    issued_at: int,
    not_after: int,
    property_keys: list[dict],
    property_seal_key: dict | None,
    uninstall_mode: str | None = None,
) -> dict:
    """`lockCommand`: what the lock must apply, bound to its id, its key and a sequence number."""
    if command not in COMMANDS:
        raise ValueError(f"unknown lock command {command!r}")
    return {
        "command": command,
        "lockId": lock_id,
        "lockKid": lock_kid,
        "propertyId": property_id,
        "areaId": area_id,
        "sequence": sequence,
        "issuedAt": issued_at,
        "notAfter": not_after,
        "propertyKeys": property_keys,
        "propertySealKey": property_seal_key,
        "uninstallMode": uninstall_mode,
    }


# --- sync (§6.4–§6.6), acknowledgements (§8) -------------------------------------------------


def access_logs_aad(lock_id: str, sync_sequence: int) -> bytes:
    """Associated data of `encryptedAccessLogs`: binds the blob to this lock and this sync."""
    return canonical.canonical({"lockId": lock_id, "syncSequence": sync_sequence})


def nonce_check(value) -> str:
    if not isinstance(value, str):
        raise ProtocolError("nonce", "Must be a base64url string.")
    try:
        raw = crypto.b64url_decode(value)
    except ValueError:
        raise ProtocolError("nonce", "Must be base64url without padding.") from None
    if not NONCE_MIN_BYTES <= len(raw) <= NONCE_MAX_BYTES:
        raise ProtocolError("nonce", f"Must be {NONCE_MIN_BYTES} to {NONCE_MAX_BYTES} random bytes.")
    return value


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def access_logs_parse(plaintext: bytes, *, max_logs: int) -> list[dict]:
    """The opened `encryptedAccessLogs` (§6.5) → list of logs, strictly checked.

    Sequence numbers must rise strictly inside one batch (a duplicate or a step back is a
    malformed batch, refused whole); across batches a repeat is fine (ignored by the server).
    """
    try:
        document = canonical.loads(plaintext)
    except canonical.CanonicalError as exc:
        raise ProtocolError("encryptedAccessLogs", f"the opened logs are not strict JSON ({exc})") from None
    if not isinstance(document, dict) or set(document) != {"logs"} or not isinstance(document["logs"], list):
        raise ProtocolError("encryptedAccessLogs", 'the opened logs must be exactly {"logs": [...]}')
    logs = document["logs"]
    if len(logs) > max_logs:
        raise ProtocolError("encryptedAccessLogs", f"at most {max_logs} logs per sync")
    previous = 0
    for index, log in enumerate(logs):
        where = f"encryptedAccessLogs.logs[{index}]"
        if not isinstance(log, dict):
            raise ProtocolError(where, "Must be an object.")
        missing = [name for name in LOG_FIELDS_REQUIRED if name not in log]
        unknown = sorted(set(log) - set(LOG_FIELDS_REQUIRED) - set(LOG_FIELDS_OPTIONAL))
        if missing or unknown:
            raise ProtocolError(where, f"missing {missing}, unknown {unknown}")
        sequence = log["sequence"]
        if not _is_int(sequence) or sequence < 1:
            raise ProtocolError(f"{where}.sequence", "Must be an integer ≥ 1.")
        if sequence == previous:
            raise ProtocolError(f"{where}.sequence", f"duplicate sequence number {sequence} in one batch")
        if sequence < previous:
            raise ProtocolError(f"{where}.sequence", f"out of order: {sequence} after {previous}")
        previous = sequence
        if not _is_int(log["accessDate"]) or log["accessDate"] < 0:
            raise ProtocolError(f"{where}.accessDate", "Must be Unix seconds (an integer ≥ 0).")
        result, reason = log["result"], log["reason"]
        allowed = {"granted": GRANTED_REASONS, "denied": DENIED_REASONS}.get(result)
        if allowed is None:
            raise ProtocolError(f"{where}.result", "Must be granted or denied.")
        if reason not in allowed:
            raise ProtocolError(f"{where}.reason", f"Must be one of {', '.join(allowed)} when {result}.")
        for name in ("kid", "userGroupId", "deviceSignature"):
            if log.get(name) is not None and not isinstance(log[name], str):
                raise ProtocolError(f"{where}.{name}", "Must be a string or null.")
        if log.get("kid") is not None and len(log["kid"]) != 22:
            raise ProtocolError(f"{where}.kid", "Must be a 22-character kid.")
        if log.get("deviceSignature") is not None and len(log["deviceSignature"]) > 100:
            raise ProtocolError(f"{where}.deviceSignature", "Must be a base64url Ed25519 signature.")
        if "keyMapVersion" in log and (not _is_int(log["keyMapVersion"]) or log["keyMapVersion"] < 0):
            raise ProtocolError(f"{where}.keyMapVersion", "Must be an integer ≥ 0.")
        if "deviceSignatureFailure" in log and not isinstance(log["deviceSignatureFailure"], bool):
            raise ProtocolError(f"{where}.deviceSignatureFailure", "Must be true or false.")
    return logs


def missing_ranges(expected_from: int, sequences: list[int], *, up_to: int) -> list[tuple[int, int]]:
    """Holes in [expected_from, up_to] not covered by the sorted `sequences`."""
    holes, cursor = [], expected_from
    for sequence in sequences:
        if sequence > up_to:
            break
        if sequence > cursor:
            holes.append((cursor, sequence - 1))
        cursor = max(cursor, sequence + 1)
    if cursor <= up_to:
        holes.append((cursor, up_to))
    return holes


def ack_check(ack, *, lock_id: str) -> dict:
    """Shape of an acknowledgement envelope (§8); the signature is checked by the caller."""
    if not isinstance(ack, dict) or set(ack) != {"payload", "signatures"}:
        raise ProtocolError("ack", 'Must be exactly {"payload": {...}, "signatures": {...}}.')
    payload = ack["payload"]
    if not isinstance(payload, dict) or set(payload) != {"lockId", "keyMapVersion", "keyMapDigest", "appliedAt"}:
        raise ProtocolError("ack.payload", "Must have exactly lockId, keyMapVersion, keyMapDigest, appliedAt.")
    if payload["lockId"] != lock_id:
        raise ProtocolError("ack.payload.lockId", "acknowledges a key map of another lock")
    if not _is_int(payload["keyMapVersion"]) or payload["keyMapVersion"] < 1:
        raise ProtocolError("ack.payload.keyMapVersion", "Must be an integer ≥ 1.")
    if not _is_int(payload["appliedAt"]) or payload["appliedAt"] < 0:
        raise ProtocolError("ack.payload.appliedAt", "Must be Unix seconds.")
    if not isinstance(payload["keyMapDigest"], str) or len(payload["keyMapDigest"]) != 43:
        raise ProtocolError("ack.payload.keyMapDigest", "Must be the 43-character base64url SHA-256 of the map.")
    return payload
