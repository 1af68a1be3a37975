"""What the in-memory vendor emulators share (ParqEx, SmartphoneKey; Lockt's has tables): one
cloud per process behind a lock, its reset, and the queue of injected failures that the next
requests consume (`_control/fail`)."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

FAILURE_MODES = ("401", "500", "slow", "malformed")


@dataclass
class Failure:
    mode: str
    times: int = 1
    seconds: float = 0.0


State = TypeVar("State")


class MemoryCloud(Generic[State]):
    """One vendor's state in this process. `state.failures` is a list of Failure."""

    def __init__(self, make: Callable[[], State]):
        self._make = make
        self._lock = threading.RLock()
        self._state = make()

    def lock(self) -> threading.RLock:
        return self._lock

    def state(self) -> State:
        return self._state

    def reset(self) -> None:
        with self._lock:
            self._state = self._make()

    def failure_next(self) -> Failure | None:
        """The failure this request must show, if any were injected (each counts down)."""
        with self._lock:
            failures = self._state.failures
            if not failures:
                return None
            failure = failures[0]
            failure.times -= 1
            if failure.times <= 0:
                failures.pop(0)
            return failure
