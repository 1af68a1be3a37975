"""Doors F14–F19 (spec §6.4, §9.11)."""

from apps.integrations.lockt.emulator import envelopes, rules
from apps.integrations.lockt.emulator import models as m
from apps.integrations.lockt.emulator.handlers import shapes
from apps.integrations.lockt.emulator.pipeline import Ctx, write_batch
from apps.integrations.lockt.emulator.values import as_int, as_text, blank


def _doors(ctx: Ctx):
    return m.Door.objects.filter(instance=ctx.instance).order_by("rid")


def list_doors(ctx: Ctx) -> envelopes.Reply:  # F17
    return envelopes.read(shapes.doors(_doors(ctx)))


def _doors_of(ctx: Ctx, user: m.User) -> envelopes.Reply:
    """The distinct doors of all the user's levels, delegate ones included (L205–L206)."""
    rids = m.AccessLevelDoor.objects.filter(level__useraccesslevel__user=user).values_list("door__rid", flat=True)
    return envelopes.read(shapes.doors(_doors(ctx).filter(rid__in=set(rids))))


def doors_of_user(ctx: Ctx) -> envelopes.Reply:
    """F16; §5 L259 "user_id is valid, numeric and not blank" → 400 GET error."""
    value = ctx.query.get("user_id", "")
    if blank(value):
        return envelopes.get_error("Missing or blank user_id found")
    rid = as_int(value)
    if rid is None:
        return envelopes.get_error(f"Non-Numeric user_id found: {value}")
    user = m.User.objects.filter(instance=ctx.instance, rid=rid).first()
    if user is None:
        return envelopes.get_error(f"Invalid user_id found: {value}")
    return _doors_of(ctx, user)


def doors_of_id_num(ctx: Ctx) -> envelopes.Reply:  # F15: unknown id_num → [] [Inference]
    user = m.User.objects.filter(instance=ctx.instance, id_num=ctx.query.get("id_num", "")).first()
    return envelopes.read([]) if user is None else _doors_of(ctx, user)


def door_states(ctx: Ctx) -> envelopes.Reply:  # F19: doors without a reading are left out [Inference]
    rows = _doors(ctx).exclude(battery_level=None)
    return envelopes.read([{"id": d.rid, "name": d.name, "battery_level": d.battery_level} for d in rows])


def post_doors(ctx: Ctx) -> envelopes.Reply:  # F18: insert only; the other fields per §6.4 notes
    def apply(item: rules.Item) -> str:
        m.Door.objects.create(instance=ctx.instance, rid=ctx.instance.allocate(), name=as_text(item.obj["name"]))
        return "inserted"

    return write_batch(ctx, node="doors", validate=lambda item: rules.validate(item, "door", "POST"), apply=apply)


def delete_doors(ctx: Ctx) -> envelopes.Reply:  # F14: also leaves every level [Inference]
    def apply(item: rules.Item) -> str:
        _doors(ctx).filter(rid=as_int(item.obj["id"])).delete()
        return "deleted"

    return write_batch(
        ctx,
        node="doors",
        validate=lambda item: rules.validate(item, "door", "DELETE"),
        apply=apply,
        counters=("deleted",),
    )
