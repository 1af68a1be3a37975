"""PURE: Keyhouse `Schedule` <-> Lockt schedule object, lossless or refused (docs/SCHEDULES.md "Lockt").

Spec: lockt-cloud-api.md §6.8 F33 (`id`, `name`, `d0`..`d6`, `start`, `stop` "HH:MM:SS") and A27.
Decisions (the spec leaves them open; each is what a Lockt user reading the object expects):

- d0..d6 = Mon..Sun ("typically Monday", A27); `D0_WEEKDAY` is the one place to change that.
- Lockt `stop` is inclusive to the second (the examples end at "16:59:59"), Keyhouse `stop` is
  exclusive: Lockt stop = Keyhouse stop − 1 s. So Keyhouse 08:00–17:00 is Lockt 08:00:00–16:59:59
  and Keyhouse 24:00 is Lockt "23:59:59"; Lockt never needs "24:00:00", which it refuses.
- Lockt `stop` earlier than `start` crosses midnight, as a Keyhouse `stop <= start` window does.
  The one Lockt shape Keyhouse cannot hold is stop = start − 1 s (24 hours from `start`): refused.
- Lockt has one start/stop per schedule and no validity dates: more windows, validFrom or
  validUntil are refused with `LossyMappingError` naming each lost item.

`to_lockt` returns the Lockt fields except `id`: Lockt has no schedule write API, so its use is to
match a Keyhouse schedule against the seeded ones from GET /schedule.
"""

import re

from apps.access.schedules import SECONDS_PER_DAY, Schedule, Window, describe, timestamp_to_json
from apps.integrations.mapping import LossyMappingError, VendorFormatError

DAY_BITS = ("d0", "d1", "d2", "d3", "d4", "d5", "d6")
# Keyhouse weekday (0 = Monday) of bit d0; bit d<i> is weekday (D0_WEEKDAY + i) % 7.
D0_WEEKDAY = 0

_LOCKT_TIME_RE = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})")


def to_lockt(schedule: Schedule, *, name: str) -> dict:
    """The Lockt schedule fields (all but `id`) for `schedule`; LossyMappingError if Lockt cannot hold it."""
    losses = []
    if len(schedule.windows) > 1:
        extra = ", ".join(f"windows[{index}] ({describe(w)})" for index, w in enumerate(schedule.windows) if index)
        losses.append(f"Lockt holds one window per schedule: {extra} would be lost")
    if schedule.valid_from is not None:
        losses.append(f"validFrom ({timestamp_to_json(schedule.valid_from)}) would be lost")
    if schedule.valid_until is not None:
        losses.append(f"validUntil ({timestamp_to_json(schedule.valid_until)}) would be lost")
    if losses:
        raise LossyMappingError(*losses)
    window = schedule.windows[0]
    obj: dict = {"name": name}
    for index, bit in enumerate(DAY_BITS):
        obj[bit] = int((D0_WEEKDAY + index) % 7 in window.days)
    obj["start"] = _lockt_time(window.start)
    obj["stop"] = _lockt_time(window.stop - 1)  # Lockt stop is inclusive to the second
    return obj


def from_lockt(obj: dict) -> Schedule:
    """A one-window Keyhouse `Schedule` from a Lockt schedule object (`id`/`name` are the caller's)."""
    if not isinstance(obj, dict):
        raise VendorFormatError("schedule", "Must be an object.")
    days = set()
    for index, bit in enumerate(DAY_BITS):
        if bit not in obj:
            raise VendorFormatError(bit, "This field is required.")
        value = obj[bit]
        if not isinstance(value, int) or isinstance(value, bool) or value not in (0, 1):
            raise VendorFormatError(bit, f"Must be 0 or 1, got {value!r}.")
        if value:
            days.add((D0_WEEKDAY + index) % 7)
    start = _parse_lockt_time(obj, "start")
    stop = _parse_lockt_time(obj, "stop")
    if not days:
        raise LossyMappingError(
            "Lockt schedule has no day bit set (d0..d6 are all 0): a Keyhouse window needs at least one day"
        )
    if stop + 1 == start:
        raise LossyMappingError(
            f"Lockt start {obj['start']} to stop {obj['stop']} opens for 24 hours from {obj['start']}: "
            "a Keyhouse window cannot start and stop at the same time (only 00:00–24:00 is a whole day)"
        )
    return Schedule(windows=(Window(frozenset(days), start, stop + 1),))


def _lockt_time(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _parse_lockt_time(obj: dict, field: str) -> int:
    if field not in obj:
        raise VendorFormatError(field, "This field is required.")
    value = obj[field]
    match = _LOCKT_TIME_RE.fullmatch(value) if isinstance(value, str) else None
    seconds = None
    if match is not None and int(match[1]) <= 23 and int(match[2]) <= 59 and int(match[3]) <= 59:
        seconds = int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3])
    if seconds is None or seconds >= SECONDS_PER_DAY:
        raise VendorFormatError(field, f"Must be HH:MM:SS between 00:00:00 and 23:59:59, got {value!r}.")
    return seconds
