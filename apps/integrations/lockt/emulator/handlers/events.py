"""Events F20–F21 (spec §6.5, §9.10): newest first, at most `event_cache_size` (default 5000)."""

from apps.integrations.lockt.emulator import envelopes
from apps.integrations.lockt.emulator import models as m
from apps.integrations.lockt.emulator.handlers import shapes
from apps.integrations.lockt.emulator.pipeline import Ctx
from apps.integrations.lockt.emulator.values import as_int


def _cache(ctx: Ctx):
    size = int(ctx.sw("event_cache_size"))
    newest = m.Event.objects.filter(instance=ctx.instance).order_by("-rid")
    edge = list(newest.values_list("rid", flat=True)[size - 1 : size]) if size > 0 else []
    floor = edge[0] if edge else None
    return newest.filter(rid__gte=floor) if floor is not None else newest


def list_events(ctx: Ctx) -> envelopes.Reply:  # F20
    return envelopes.read(shapes.events(_cache(ctx)))


def events_after(ctx: Ctx) -> envelopes.Reply:  # F21: id is required (L1831); exclusive (A52)
    value = ctx.query.get("id", "")
    after = as_int(value)
    if after is None:
        return envelopes.get_error(f"Non-Numeric id found: {value}" if value else "Missing or blank id found")
    return envelopes.read(shapes.events(_cache(ctx).filter(rid__gt=after)))
