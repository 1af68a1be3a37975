"""PURE: Keyhouse `Schedule` <-> SmartphoneKey `validFrom`/`validUntil` (docs/SCHEDULES.md "SmartphoneKey").

Spec: seed 003 (POST /users/{id}/AddAccessibleLock: `validFrom`, `validUntil`, typed string,
"Valid from/until date", example "example_string"). SmartphoneKey has validity only, no weekly
windows, so only schedules whose windows are exactly `(ALWAYS,)` map.

Decision: the seed shows no timestamp format, so we send the Keyhouse API form
`YYYY-MM-DDThh:mm:ss.sssZ` (ISO 8601 UTC, milliseconds) and `null` for an open end. We read ISO
8601 date-times with `Z` or an offset and up to six fractional digits; the instant is kept, the
spelling is normalized (round trips are exact for the canonical spelling).
"""

import datetime as dt
import re

from apps.access.schedules import ALWAYS, Schedule, describe, timestamp_to_json
from apps.integrations.mapping import LossyMappingError, VendorFormatError

VALIDITY_KEYS = ("validFrom", "validUntil")

_TIMESTAMP_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


def to_smartphonekey(schedule: Schedule) -> dict:
    """`{"validFrom", "validUntil"}` for `schedule`; LossyMappingError unless its windows are `(ALWAYS,)`."""
    if schedule.windows != (ALWAYS,):
        described = ", ".join(f"windows[{index}] ({describe(w)})" for index, w in enumerate(schedule.windows))
        raise LossyMappingError(f"SmartphoneKey holds validity dates only: weekly windows would be lost: {described}")
    return {
        "validFrom": None if schedule.valid_from is None else timestamp_to_json(schedule.valid_from),
        "validUntil": None if schedule.valid_until is None else timestamp_to_json(schedule.valid_until),
    }


def from_smartphonekey(obj: dict) -> Schedule:
    """An always-open `Schedule` bounded by the object's `validFrom`/`validUntil` (missing or null = open)."""
    if not isinstance(obj, dict):
        raise VendorFormatError("access", "Must be an object.")
    valid_from, valid_until = (_parse_timestamp(obj, key) for key in VALIDITY_KEYS)
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise LossyMappingError(
            f"validUntil {obj['validUntil']} is not after validFrom {obj['validFrom']}: "
            "a Keyhouse schedule cannot hold an empty validity period"
        )
    return Schedule(windows=(ALWAYS,), valid_from=valid_from, valid_until=valid_until)


def _parse_timestamp(obj: dict, key: str) -> dt.datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _TIMESTAMP_RE.fullmatch(value):
        raise VendorFormatError(key, f"Must be an ISO 8601 date-time with Z or an offset, got {value!r}.")
    try:
        parsed = dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise VendorFormatError(key, f"Not a valid date-time: {value!r}.") from None
    if parsed.microsecond % 1000:
        raise LossyMappingError(f"{key} {value}: Keyhouse keeps milliseconds, the sub-millisecond part would be lost")
    return parsed
