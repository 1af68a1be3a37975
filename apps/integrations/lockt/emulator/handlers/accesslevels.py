"""Access levels F01–F04 and delegates F11–F13 (spec §6.1, §6.3, §9.6)."""

import uuid

from apps.integrations.lockt.emulator import envelopes, rules
from apps.integrations.lockt.emulator import models as m
from apps.integrations.lockt.emulator.handlers import shapes
from apps.integrations.lockt.emulator.handlers.users import window_messages
from apps.integrations.lockt.emulator.pipeline import Ctx, write_batch
from apps.integrations.lockt.emulator.switches import switch
from apps.integrations.lockt.emulator.values import as_int, as_text, blank, parse_date


def _levels(ctx: Ctx):
    return m.AccessLevel.objects.filter(instance=ctx.instance).order_by("rid")


def list_levels(ctx: Ctx) -> envelopes.Reply:  # F02 (delegates included, [Inference] A49)
    return envelopes.read(shapes.access_levels(_levels(ctx), with_schedule=_with_schedule(ctx)))


def level_by_name(ctx: Ctx) -> envelopes.Reply:  # F03: exact, case-sensitive [Inference]
    levels = _levels(ctx).filter(name=ctx.query.get("name", ""))
    return envelopes.read(shapes.access_levels(levels, with_schedule=_with_schedule(ctx)))


def _with_schedule(ctx: Ctx) -> bool:
    return bool(switch(ctx.instance, "accesslevel_doors_schedule_id"))


def post_levels(ctx: Ctx) -> envelopes.Reply:  # F04: insert only [Inference]
    def apply(item: rules.Item) -> str:
        obj = item.obj
        level = m.AccessLevel.objects.create(
            instance=ctx.instance, rid=ctx.instance.allocate(), name=as_text(obj["name"])
        )
        entries = obj.get("doors") if isinstance(obj.get("doors"), list) else []
        pairs = [(d.get("id"), d.get("schedule_id")) if isinstance(d, dict) else (d, None) for d in entries]
        door_rids = [as_int(door) for door, _ in pairs]
        sched_rids = [as_int(sched) for _, sched in pairs]
        doors = {d.rid: d for d in m.Door.objects.filter(instance=ctx.instance, rid__in=door_rids)}
        scheds = {s.rid: s for s in m.Schedule.objects.filter(instance=ctx.instance, rid__in=sched_rids)}
        links, seen = [], set()
        for position, (door_rid, sched_rid) in enumerate(zip(door_rids, sched_rids, strict=True)):
            if door_rid in seen:
                continue
            seen.add(door_rid)
            links.append(
                m.AccessLevelDoor(level=level, door=doors[door_rid], schedule=scheds.get(sched_rid), position=position)
            )
        m.AccessLevelDoor.objects.bulk_create(links)
        return "inserted"

    return write_batch(
        ctx, node="accesslevels", validate=lambda item: rules.validate(item, "accesslevel", "POST"), apply=apply
    )


def delete_levels(ctx: Ctx) -> envelopes.Reply:  # F01: also leaves every user's set [Inference]
    def apply(item: rules.Item) -> str:
        m.AccessLevel.objects.filter(instance=ctx.instance, rid=as_int(item.obj["id"])).delete()
        return "deleted"

    return write_batch(
        ctx,
        node="accesslevels",
        validate=lambda item: rules.validate(item, "accesslevel", "DELETE"),
        apply=apply,
        counters=("deleted",),
    )


# -- delegates ----------------------------------------------------------------------------------


def list_delegates(ctx: Ctx) -> envelopes.Reply:  # F11: expired ones too, until purged
    return envelopes.read(shapes.delegates(_levels(ctx).filter(delegate=True)))


def _delegatable(user: m.User) -> set[int]:
    """Doors of the user's non-delegate levels: delegated doors are "ignored" (L851, first reading of A49)."""
    return set(
        m.AccessLevelDoor.objects.filter(level__useraccesslevel__user=user, level__delegate=False).values_list(
            "door__rid", flat=True
        )
    )


def post_delegate(ctx: Ctx) -> envelopes.Reply:
    """F12: one object, no options, any error fails the batch (L851–L853)."""

    def users_of(obj):
        found = {}
        for key in ("from_user_id", "to_user_id"):
            rid = as_int(obj.get(key))
            found[key] = m.User.objects.filter(instance=ctx.instance, rid=rid).first() if rid is not None else None
        return found

    def validate(item: rules.Item) -> list[str]:
        obj, messages = item.obj, []
        people = users_of(obj)
        for key in ("from_user_id", "to_user_id"):
            value = obj.get(key)
            if blank(value):
                messages.append(f"Missing or blank {key} found")
            elif people[key] is None:
                messages.append(f"Invalid {key} found: {as_text(value)}")
        doors = obj.get("doors")
        if not isinstance(doors, list) or not doors:
            messages.append("Missing or blank doors found")
        elif people["from_user_id"] is not None:
            allowed = _delegatable(people["from_user_id"])
            for entry in doors:
                door_id = entry.get("id") if isinstance(entry, dict) else entry
                if as_int(door_id) not in allowed:
                    messages.append(f"Door id {as_text(door_id)} is not available to delegate")
        dates, bad = {}, False
        for key in ("access_effective", "access_expires"):
            try:
                dates[key] = parse_date(obj.get(key))
            except ValueError:
                messages.append(f"Invalid {key} date format found: {as_text(obj.get(key))}")
                bad = True
        if not bad:
            messages += window_messages(
                ctx,
                obj.get("access_effective"),
                obj.get("access_expires"),
                dates["access_effective"],
                dates["access_expires"],
                quote_expires=ctx.sw("delegate_error_quotes_expires"),
            )
        return messages

    def apply(item: rules.Item) -> str:
        obj = item.obj
        people = users_of(obj)
        level = m.AccessLevel.objects.create(
            instance=ctx.instance,
            rid=ctx.instance.allocate(),
            name=f"delegate_{uuid.uuid4().hex}",
            delegate=True,
            access_effective=parse_date(obj.get("access_effective")),
            access_expires=parse_date(obj.get("access_expires")),
            from_user_rid=people["from_user_id"].rid,
            to_user_rid=people["to_user_id"].rid,
        )
        rids = list(dict.fromkeys(as_int(d.get("id") if isinstance(d, dict) else d) for d in obj["doors"]))
        doors = {d.rid: d for d in m.Door.objects.filter(instance=ctx.instance, rid__in=rids)}
        m.AccessLevelDoor.objects.bulk_create(
            m.AccessLevelDoor(level=level, door=doors[rid], position=i) for i, rid in enumerate(rids)
        )
        receiver = people["to_user_id"]
        position = m.UserAccessLevel.objects.filter(user=receiver).count()
        m.UserAccessLevel.objects.create(user=receiver, level=level, position=position)
        return "processed"

    return write_batch(
        ctx, node="delegates", validate=validate, apply=apply, counters=("processed",), limit=1, always_fail_batch=True
    )


def purge_delegates(ctx: Ctx) -> envelopes.Reply:
    """F13: delete delegate levels whose access_expires < now (L786–L788); no body."""
    delegates = _levels(ctx).filter(delegate=True)
    submitted = delegates.count()
    expired = delegates.filter(access_expires__lt=ctx.now)
    deleted = expired.count()
    expired.delete()
    return envelopes.write_summary({"submitted": submitted, "deleted": deleted}, [])
