"""The emulator's in-memory state: one SmartphoneKey cloud per process, guarded by a lock."""

import secrets
from dataclasses import dataclass, field

from apps.integrations.emulator_memory import FAILURE_MODES, Failure, MemoryCloud  # noqa: F401 - re-exported

EMULATOR_API_KEY = "spk-emulator-api-key"  # the demo account's key; not anyone's secret


@dataclass
class EmulatorState:
    api_key: str = EMULATOR_API_KEY
    tokens: set = field(default_factory=set)
    locks: dict = field(default_factory=dict)  # user id -> {lockId: stored body}
    versions: dict = field(default_factory=dict)  # user id -> version
    failures: list[Failure] = field(default_factory=list)


_cloud = MemoryCloud(EmulatorState)
lock, state, reset, failure_next = _cloud.lock, _cloud.state, _cloud.reset, _cloud.failure_next


def token_new() -> str:
    # An opaque stand-in for SmartphoneKey's JWT (three dot-separated parts, like one).
    token = ".".join(secrets.token_urlsafe(12) for _ in range(3))
    state().tokens.add(token)
    return token
