"""Event handlers by eventName. Apps register in their AppConfig.ready():

    from apps.events.registry import event_handler

    @event_handler("area.moved")
    def recompute_area_access(event): ...

Handlers must be idempotent: an event may be processed more than once (a worker died after
the handler ran but before processed_at was saved; someone pressed "process" again).
"""

from collections import defaultdict
from collections.abc import Callable

_HANDLERS: dict[str, list[Callable]] = defaultdict(list)


def event_handler(event_name: str):
    def register(func: Callable) -> Callable:
        if func not in _HANDLERS[event_name]:
            _HANDLERS[event_name].append(func)
        return func

    return register


def handlers_for(event_name: str) -> list[Callable]:
    return list(_HANDLERS.get(event_name, ()))
