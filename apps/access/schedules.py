"""PURE: Keyhouse schedules: named weekly windows read in the property's time zone (docs/SCHEDULES.md).

No Django here (stdlib only), so the schedule rules, the vendor mappings built on them
(`apps/integrations/*/`) and their tests run without a database.

- A `Window` opens on each of its `days` (0 = Monday, as `datetime.weekday()`) at `start` and
  closes at `stop`, both seconds of the day. `stop <= start` crosses midnight: the window
  closes on the next day at `stop`.
- A `Schedule` is one or more windows plus optional `valid_from` (inclusive) and
  `valid_until` (exclusive), aware datetimes kept in UTC with at most millisecond precision
  (the API's timestamp format, so `canonical()` never hides a difference).
- DST: windows are wall-clock times. `is_open` converts the instant to local wall time and
  compares wall times, so a window in a skipped hour never opens and a window in a repeated
  hour opens twice.
"""

import datetime as dt
import re
from dataclasses import dataclass

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SECONDS_PER_DAY = 86400
MAX_WINDOWS = 50
WINDOW_KEYS = ("days", "start", "stop")

_TIME_RE = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")


class ScheduleError(ValueError):
    """A schedule value is invalid; `field` is its request path (`windows[1].stop`, `validUntil`)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Window:
    """Weekly window: opens on each of `days` at `start`, closes at `stop` (next day if `stop <= start`)."""

    days: frozenset[int]
    start: int
    stop: int

    def __post_init__(self):
        days = self.days
        if not isinstance(days, frozenset | set | tuple | list):
            raise ScheduleError("days", "Must be a set of weekday numbers 0..6 (0 = Monday).")
        if not days:
            raise ScheduleError("days", "Must list at least one day.")
        if any(not _is_int(day) or not 0 <= day <= 6 for day in days):
            raise ScheduleError("days", "Must be a set of weekday numbers 0..6 (0 = Monday).")
        object.__setattr__(self, "days", frozenset(days))
        if not _is_int(self.start) or not 0 <= self.start < SECONDS_PER_DAY:
            raise ScheduleError("start", "Must be a second of the day in [0, 86400).")
        if not _is_int(self.stop) or not 0 < self.stop <= SECONDS_PER_DAY:
            raise ScheduleError("stop", "Must be a second of the day in (0, 86400].")
        if self.start == self.stop:
            raise ScheduleError("stop", "Must differ from start; use 00:00–24:00 for a whole day.")

    @property
    def crosses_midnight(self) -> bool:
        return self.stop <= self.start


ALWAYS = Window(frozenset(range(7)), 0, SECONDS_PER_DAY)


@dataclass(frozen=True)
class Schedule:
    """One or more weekly windows, optionally bounded by `valid_from` (inclusive) / `valid_until` (exclusive)."""

    windows: tuple[Window, ...]
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None

    def __post_init__(self):
        windows = tuple(self.windows)
        if not windows:
            raise ScheduleError("windows", "Must list at least one window.")
        if len(windows) > MAX_WINDOWS:
            raise ScheduleError("windows", f"At most {MAX_WINDOWS} windows.")
        for index, window in enumerate(windows):
            if not isinstance(window, Window):
                raise ScheduleError(f"windows[{index}]", "Must be a Window.")
        object.__setattr__(self, "windows", windows)
        object.__setattr__(self, "valid_from", _check_instant(self.valid_from, "validFrom"))
        object.__setattr__(self, "valid_until", _check_instant(self.valid_until, "validUntil"))
        if self.valid_from is not None and self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ScheduleError("validUntil", "Must be after validFrom.")


def windows_from_json(items: list) -> tuple[Window, ...]:
    """Parse and validate the JSON `windows` list; errors name the field (`windows[1].stop`)."""
    if not isinstance(items, list):
        raise ScheduleError("windows", "Must be a list of windows.")
    if not items:
        raise ScheduleError("windows", "Must list at least one window.")
    if len(items) > MAX_WINDOWS:
        raise ScheduleError("windows", f"At most {MAX_WINDOWS} windows.")
    return tuple(_window_from_json(item, f"windows[{index}]") for index, item in enumerate(items))


def windows_to_json(windows: tuple[Window, ...]) -> list[dict]:
    """Canonical JSON: days in week order, "HH:MM" (or "HH:MM:SS" when seconds are set), window order kept."""
    return [
        {
            "days": [DAY_NAMES[day] for day in sorted(window.days)],
            "start": time_to_json(window.start),
            "stop": time_to_json(window.stop),
        }
        for window in windows
    ]


def time_to_json(seconds: int) -> str:
    """Seconds of the day as "HH:MM", or "HH:MM:SS" when the seconds are not zero (86400 → "24:00")."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}" if secs else f"{hours:02d}:{minutes:02d}"


def timestamp_to_json(value: dt.datetime) -> str:
    """The API's timestamp text: `YYYY-MM-DDThh:mm:ss.sssZ` (UTC, milliseconds)."""
    value = value.astimezone(dt.UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


def canonical(schedule: Schedule) -> dict:
    """JSON-able canonical content of a schedule (what others digest): windows + validity bounds."""
    return {
        "windows": windows_to_json(schedule.windows),
        "validFrom": None if schedule.valid_from is None else timestamp_to_json(schedule.valid_from),
        "validUntil": None if schedule.valid_until is None else timestamp_to_json(schedule.valid_until),
    }


def is_open(schedule: Schedule, at: dt.datetime, tz: dt.tzinfo) -> Window | None:
    """The first window open at instant `at` in zone `tz` (wall-clock comparison), or None.

    None also before `valid_from` and from `valid_until` on.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("is_open needs an aware datetime.")
    if schedule.valid_from is not None and at < schedule.valid_from:
        return None
    if schedule.valid_until is not None and at >= schedule.valid_until:
        return None
    # Wall-clock rule (docs/SCHEDULES.md "DST"): only the local wall time matters, so a
    # skipped hour never matches and both occurrences of a repeated hour (fold 0 and 1) do.
    local = at.astimezone(tz)
    second = local.hour * 3600 + local.minute * 60 + local.second
    today = local.weekday()
    yesterday = (today - 1) % 7
    for window in schedule.windows:
        if window.start < window.stop:
            if today in window.days and window.start <= second < window.stop:
                return window
        elif (today in window.days and second >= window.start) or (yesterday in window.days and second < window.stop):
            return window
    return None


def describe(window: Window) -> str:
    """Human text: "Mon–Fri 08:00–18:00", "Sat 22:00–02:00 (+1 day)", "every day 00:00–24:00"."""
    text = f"{_describe_days(window.days)} {time_to_json(window.start)}–{time_to_json(window.stop)}"
    return f"{text} (+1 day)" if window.crosses_midnight else text


def _describe_days(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "every day"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_LABELS[run[0]]}–{DAY_LABELS[run[-1]]}")
        else:
            parts.extend(DAY_LABELS[day] for day in run)
    return ", ".join(parts)


def _window_from_json(item, path: str) -> Window:
    if not isinstance(item, dict):
        raise ScheduleError(path, "Must be an object with days, start and stop.")
    for key in item:
        if key not in WINDOW_KEYS:
            raise ScheduleError(f"{path}.{key}", "Unknown field.")
    for key in WINDOW_KEYS:
        if key not in item:
            raise ScheduleError(f"{path}.{key}", "This field is required.")
    days = _days_from_json(item["days"], f"{path}.days")
    start = _time_from_json(item["start"], f"{path}.start", allow_24=False)
    stop = _time_from_json(item["stop"], f"{path}.stop", allow_24=True)
    try:
        return Window(days, start, stop)
    except ScheduleError as exc:
        raise ScheduleError(f"{path}.{exc.field}", exc.message) from None


def _days_from_json(value, path: str) -> frozenset[int]:
    if not isinstance(value, list):
        raise ScheduleError(path, "Must be a list of day names (mon, tue, wed, thu, fri, sat, sun).")
    if not value:
        raise ScheduleError(path, "Must list at least one day.")
    days: set[int] = set()
    for index, name in enumerate(value):
        if name not in DAY_NAMES:
            raise ScheduleError(f"{path}[{index}]", f"Unknown day {name!r}; use mon, tue, wed, thu, fri, sat, sun.")
        day = DAY_NAMES.index(name)
        if day in days:
            raise ScheduleError(f"{path}[{index}]", f"Duplicate day {name!r}.")
        days.add(day)
    return frozenset(days)


def _time_from_json(value, path: str, *, allow_24: bool) -> int:
    match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ScheduleError(path, "Must be HH:MM or HH:MM:SS.")
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if hours == 24 and minutes == 0 and seconds == 0:
        if not allow_24:
            raise ScheduleError(path, "24:00 is allowed for stop only.")
        return SECONDS_PER_DAY
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ScheduleError(path, "Must be a time between 00:00 and 23:59:59 (24:00 for stop).")
    return hours * 3600 + minutes * 60 + seconds


def _check_instant(value: dt.datetime | None, field: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError(field, "Must be a timezone-aware datetime.")
    if value.microsecond % 1000:
        # Timestamps travel as YYYY-MM-DDThh:mm:ss.sssZ; finer precision would vanish silently.
        raise ScheduleError(field, "Must be whole milliseconds (YYYY-MM-DDThh:mm:ss.sssZ).")
    return value.astimezone(dt.UTC)
