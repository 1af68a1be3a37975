"""The needs-attention registry of the admin dashboard (docs/ADMIN.md "Needs attention").

Core is the ground floor and knows no domain: each app registers, from its
AppConfig.ready(), a provider that lists what of its own needs a person's look:

    attention_register("locks.key_map_pending", title="…", provider=fn, order=10)

`provider(property_ids)` gets the properties the signed-in person manages (None: every
property) and returns `AttentionItem`s of those properties only; the dashboard shows each
section with its items (a provider's rows beyond `limit` are counted, not listed).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AttentionItem:
    """One thing to look at: a sentence in names (never ids), where to go, and its property
    (the dashboard names it)."""

    text: str
    url: str = ""
    property_id: object = None


@dataclass(frozen=True)
class AttentionSection:
    name: str
    title: str
    provider: Callable
    order: int = 100
    limit: int = 10


_SECTIONS: dict[str, AttentionSection] = {}


def attention_register(name: str, *, title: str, provider: Callable, order: int = 100, limit: int = 10) -> None:
    """Add (or replace, on a second ready()) the section `name`."""
    _SECTIONS[name] = AttentionSection(name=name, title=title, provider=provider, order=order, limit=limit)


def attention_sections() -> list[AttentionSection]:
    return sorted(_SECTIONS.values(), key=lambda section: (section.order, section.name))


def attention_collect(property_ids) -> list[dict]:
    """Every registered section with its items for `property_ids` (None: all): title, the
    first `limit` items, and how many there are in all."""
    out = []
    for section in attention_sections():
        items = list(section.provider(property_ids))
        out.append({"name": section.name, "title": section.title, "items": items[: section.limit], "count": len(items)})
    return out
