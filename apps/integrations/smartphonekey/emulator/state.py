"""The emulator's in-memory state: one SmartphoneKey cloud per process, guarded by a lock."""

import secrets
import threading
from dataclasses import dataclass, field

EMULATOR_API_KEY = "spk-emulator-api-key"  # the demo account's key; not anyone's secret
FAILURE_MODES = ("401", "500", "slow", "malformed")


@dataclass
class Failure:
    mode: str
    times: int = 1
    seconds: float = 0.0


@dataclass
class EmulatorState:
    api_key: str = EMULATOR_API_KEY
    tokens: set = field(default_factory=set)
    locks: dict = field(default_factory=dict)  # user id -> {lockId: stored body}
    versions: dict = field(default_factory=dict)  # user id -> version
    failures: list[Failure] = field(default_factory=list)


_lock = threading.RLock()
_state = EmulatorState()


def lock() -> threading.RLock:
    return _lock


def state() -> EmulatorState:
    return _state


def reset() -> None:
    global _state
    with _lock:
        _state = EmulatorState()


def token_new() -> str:
    # An opaque stand-in for SmartphoneKey's JWT (three dot-separated parts, like one).
    token = ".".join(secrets.token_urlsafe(12) for _ in range(3))
    _state.tokens.add(token)
    return token
