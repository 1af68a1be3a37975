"""The emulator's in-memory state: one ParqEx cloud per process, guarded by a lock."""

import datetime as dt
from dataclasses import dataclass, field

from apps.integrations.emulator_memory import FAILURE_MODES, Failure, MemoryCloud  # noqa: F401 - re-exported
from apps.integrations.parqex.fixture import seed_sync

EMULATOR_TOKEN = "parqex-emulator-token"  # the demo account's token; not a secret of anyone's
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # the seed's zoneless form; the emulator's clock is UTC


@dataclass
class EmulatorState:
    body: dict = field(default_factory=seed_sync)
    token: str = EMULATOR_TOKEN
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0
    opened_at: dict = field(default_factory=dict)  # door id -> when the emulator opened it (toggle)


_cloud = MemoryCloud(EmulatorState)
lock, state, reset, failure_next = _cloud.lock, _cloud.state, _cloud.reset, _cloud.failure_next


def now_text(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime(TIME_FORMAT)


def doors() -> list[tuple[dict, dict]]:
    """(controller, door) pairs of the current state."""
    return [
        (device, door)
        for device in state().body.get("devices", [])
        if isinstance(device, dict) and isinstance(device.get("doors"), list)
        for door in device["doors"]
        if isinstance(door, dict)
    ]


def door_find(door_id: str) -> tuple[dict, dict] | None:
    return next(((c, d) for c, d in doors() if d.get("id") == door_id), None)


def auto_close(now: dt.datetime | None = None) -> None:
    """Close doors the emulator opened (toggle) once `door_auto_close_delay` seconds have passed,
    where auto-close is enabled. Doors of the fixture keep the fixture's state: the default
    answer stays the seed's, field for field."""
    now = now or dt.datetime.now(dt.UTC)
    for _, door in doors():
        opened = state().opened_at.get(door.get("id"))
        if opened is None or door.get("state") != "OPEN" or not door.get("door_auto_close_enabled"):
            continue
        closes_at = opened + dt.timedelta(seconds=door.get("door_auto_close_delay") or 0)
        if closes_at <= now:
            door["state"] = "CLOSED"
            door["last_toggled"] = now_text(closes_at)
            del state().opened_at[door["id"]]
