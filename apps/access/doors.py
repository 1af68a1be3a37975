"""The doors: where each lock is installed and what it is called, as access sees them.

Lock rows belong to apps.locks, one floor up: it signs each lock's key map from the lines
access derives (docs/ARCHITECTURE.md), so access may not import it. apps.locks hands its
readers to `provide()` in its AppConfig.ready(); access, and the apps beside it that need
the same facts (a phone's access map), ask through the functions below.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DoorReaders:
    # property id → {lock id: area id} for its live locks that are installed in an area
    installed: Callable[[object], dict[str, str]]
    # property id → {lock id: display name} for all its locks (explain names deleted ones too)
    names: Callable[[object], dict[str, str]]
    # lock ids → {lock id: (area id or None, kid of its active lockKey or None)}, one query
    areas_and_kids: Callable[[Iterable], dict[str, tuple[str | None, str | None]]]


_readers: DoorReaders | None = None


def provide(readers: DoorReaders) -> None:
    global _readers
    _readers = readers


def _provided() -> DoorReaders:
    if _readers is None:
        raise RuntimeError("no door readers: apps.locks provides them in its AppConfig.ready()")
    return _readers


def installed(property_id) -> dict[str, str]:
    return _provided().installed(property_id)


def names(property_id) -> dict[str, str]:
    return _provided().names(property_id)


def areas_and_kids(lock_ids: Iterable) -> dict[str, tuple[str | None, str | None]]:
    return _provided().areas_and_kids(lock_ids)
