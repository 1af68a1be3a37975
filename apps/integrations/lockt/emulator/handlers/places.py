"""Locations F30–F31, location types F32, schedules F33 (spec §6.7, §6.8)."""

from apps.integrations.lockt.emulator import envelopes, rules
from apps.integrations.lockt.emulator import models as m
from apps.integrations.lockt.emulator.pipeline import Ctx, write_batch
from apps.integrations.lockt.emulator.values import as_int, as_text


def list_locations(ctx: Ctx) -> envelopes.Reply:  # F30: `type` is the location type's name (A75)
    rows = m.Location.objects.filter(instance=ctx.instance).select_related("locationtype").order_by("rid")
    return envelopes.read(
        [
            {
                "id": loc.rid,
                "name": loc.name,
                "type": loc.locationtype.name if loc.locationtype else "",
                "enabled": loc.enabled,
            }
            for loc in rows
        ]
    )


def post_locations(ctx: Ctx) -> envelopes.Reply:  # F31: enabled false, as in every example
    def apply(item: rules.Item) -> str:
        kind = m.LocationType.objects.get(instance=ctx.instance, rid=as_int(item.obj["locationtype"]))
        m.Location.objects.create(
            instance=ctx.instance, rid=ctx.instance.allocate(), name=as_text(item.obj["name"]), locationtype=kind
        )
        return "inserted"

    return write_batch(
        ctx, node="locations", validate=lambda item: rules.validate(item, "location", "POST"), apply=apply
    )


def list_location_types(ctx: Ctx) -> envelopes.Reply:  # F32
    rows = m.LocationType.objects.filter(instance=ctx.instance).order_by("rid")
    return envelopes.read([{"id": t.rid, "name": t.name} for t in rows])


def list_schedules(ctx: Ctx) -> envelopes.Reply:  # F33
    rows = m.Schedule.objects.filter(instance=ctx.instance).order_by("rid")
    return envelopes.read(
        [
            {
                "id": s.rid,
                "name": s.name,
                **{f"d{i}": getattr(s, f"d{i}") for i in range(7)},
                "start": s.start.strftime("%H:%M:%S"),
                "stop": s.stop.strftime("%H:%M:%S"),
            }
            for s in rows
        ]
    )
