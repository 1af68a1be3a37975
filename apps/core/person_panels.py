"""Panels other apps add to the admin's person page (docs/ADMIN.md "Person page").

Core is the ground floor and knows no domain; the person page lives in `access`, below the
apps that may have something to say about a person (integrations). Each such app registers,
from its AppConfig.ready(), a provider:

    person_panel_register("integrations.lockt_credentials", title="…", provider=fn, order=10)

`provider(user, property_ids)` gets the person and the properties the signed-in person may see
of theirs, and returns a `PersonPanel` (columns and rows of text, names not ids) or None when
it has nothing to show; rows of other properties are never returned.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PersonPanel:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    help: str = ""


@dataclass(frozen=True)
class _Registered:
    name: str
    provider: Callable
    order: int


_PANELS: dict[str, _Registered] = {}


def person_panel_register(name: str, *, provider: Callable, order: int = 100) -> None:
    """Add (or replace, on a second ready()) the panel `name`."""
    _PANELS[name] = _Registered(name=name, provider=provider, order=order)


def person_panels_collect(user, property_ids) -> list[PersonPanel]:
    """The registered panels with something to show for this person in these properties."""
    out = []
    for registered in sorted(_PANELS.values(), key=lambda p: (p.order, p.name)):
        panel = registered.provider(user, property_ids)
        if panel is not None:
            out.append(panel)
    return out
