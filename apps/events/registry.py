"""Event handlers by eventName, and the known event sources. Apps register in AppConfig.ready():

    from apps.events.registry import event_handler, event_source_register

    event_source_register("firmware")         # eventSource values clients may filter on
    event_names_register("firmware.uploaded")  # the names it appends (docs/API.md lists them)

    @event_handler("area.moved")               # also makes `area` a known source
    def recompute_area_access(event): ...

Handlers must be idempotent: an event may be processed more than once (a worker died after
the handler ran but before processed_at was saved; someone pressed "process" again).
"""

import re
from collections import defaultdict
from collections.abc import Callable

from apps.events.constants import EVENT_SOURCES

SOURCE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

_HANDLERS: dict[str, list[Callable]] = defaultdict(list)
_SOURCES: set[str] = set(EVENT_SOURCES)
_NAMES: set[str] = set()


def event_source_of(event_name: str) -> str:
    """The entity kind an event comes from: the part of its name before the dot."""
    return event_name.split(".", 1)[0]


def event_source_register(*sources: str) -> None:
    """Declare event sources (eventSource values) before any event of theirs exists."""
    for source in sources:
        if not SOURCE_PATTERN.match(source):
            raise ValueError(f"event source {source!r} must match {SOURCE_PATTERN.pattern}")
        _SOURCES.add(source)


def event_names_register(*names: str) -> None:
    """Declare the event names an app appends (its AppConfig.ready()); docs/API.md lists them,
    and tests/events/test_event_names.py checks the code, this registry and that list agree."""
    for name in names:
        source = event_source_of(name)
        if not SOURCE_PATTERN.match(source) or not re.fullmatch(r"[a-z][a-z0-9_]*", name.split(".", 1)[-1]):
            raise ValueError(f"event name {name!r} must look like <source>.<what_happened>")
        _NAMES.add(name)
        _SOURCES.add(source)


def event_names() -> frozenset[str]:
    """Every event name the installed apps declared."""
    return frozenset(_NAMES)


def event_sources() -> frozenset[str]:
    """Declared event sources (built-ins, registered ones, and those of registered handlers)."""
    return frozenset(_SOURCES)


def event_handler(event_name: str):
    """Decorator: run `func(event)` whenever an event named `event_name` is processed."""

    def register(func: Callable) -> Callable:
        handlers = _HANDLERS.setdefault(event_name, [])
        if func not in handlers:
            handlers.append(func)
        source = event_source_of(event_name)
        if SOURCE_PATTERN.match(source):
            _SOURCES.add(source)
        return func

    return register


def event_handler_unregister(event_name: str, func: Callable) -> None:
    """Remove a handler (tests register throwaway handlers and take them away again)."""
    handlers = _HANDLERS.get(event_name)
    if handlers and func in handlers:
        handlers.remove(func)


def handlers_for(event_name: str) -> list[Callable]:
    return list(_HANDLERS.get(event_name, ()))
