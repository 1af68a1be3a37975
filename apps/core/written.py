"""Which events one request's writes appended (docs/API.md "Following a write").

A request-scoped collector over a ContextVar: the API layer opens it around a request
(`event_ids_collected`), `apps.events.services.event_append` records each id it appends
(`event_id_record`), and the envelope renderer answers them as `eventIds`. Processing an
event (its handlers, run inline when Celery is eager) is not the request's write: it runs
under `event_ids_paused`, so derived events never show up in the answer.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_collected: ContextVar[list[str] | None] = ContextVar("keyhouse_written_event_ids", default=None)


@contextmanager
def event_ids_collected() -> Iterator[list[str]]:
    """Collect, in append order, the ids of the events appended inside the block."""
    collected: list[str] = []
    token = _collected.set(collected)
    try:
        yield collected
    finally:
        _collected.reset(token)


@contextmanager
def event_ids_paused() -> Iterator[None]:
    """Record nothing inside the block (an event's own processing)."""
    token = _collected.set(None)
    try:
        yield
    finally:
        _collected.reset(token)


def event_id_record(event_id) -> None:
    collected = _collected.get()
    if collected is not None:
        collected.append(str(event_id))


def event_ids_current() -> list[str] | None:
    """The ids collected so far in this request, or None outside a collecting request."""
    collected = _collected.get()
    return None if collected is None else list(collected)
