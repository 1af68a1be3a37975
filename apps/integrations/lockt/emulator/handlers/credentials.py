"""Credentials F05–F10 and fobs F22–F29 (spec §6.2, §6.6, §9.7). A fob is a credential with
`fob` set; both share the instance's id counter."""

from apps.integrations.lockt.emulator import envelopes, rules
from apps.integrations.lockt.emulator import models as m
from apps.integrations.lockt.emulator.handlers import shapes
from apps.integrations.lockt.emulator.pipeline import Ctx, write_batch
from apps.integrations.lockt.emulator.values import as_int, as_text, blank, credential_key, parse_date


def _creds(ctx: Ctx):
    return m.Credential.objects.filter(instance=ctx.instance).order_by("rid")


def list_credentials(ctx: Ctx) -> envelopes.Reply:  # F07 (fobs included [Inference])
    return envelopes.read(shapes.credentials(_creds(ctx)))


def credential_by_id(ctx: Ctx) -> envelopes.Reply:  # F09 [Inference] same shape as F07
    value = ctx.query.get("id", "")
    rid = as_int(value)
    if rid is None:
        return envelopes.get_error(f"Non-Numeric id found: {value}" if value else "Missing or blank id found")
    return envelopes.read(shapes.credentials(_creds(ctx).filter(rid=rid)))


def credentials_of_user(ctx: Ctx) -> envelopes.Reply:  # F06
    value = ctx.query.get("user_id", "")
    rid = as_int(value)
    if rid is None or not m.User.objects.filter(instance=ctx.instance, rid=rid).exists():
        return envelopes.get_error(f"Invalid user_id found: {value}")
    return envelopes.read(shapes.credentials(_creds(ctx).filter(user__rid=rid)))


def credential_by_card(ctx: Ctx) -> envelopes.Reply:  # F08
    return envelopes.read(shapes.credentials(_creds(ctx).filter(card_num=ctx.query.get("card_num", ""))))


def credential_summary(ctx: Ctx) -> envelopes.Reply:  # F10: integers over all credentials [Inference]
    creds = _creds(ctx)
    total = creds.count()
    claimed = creds.filter(claim_status="Claimed").count()
    return envelopes.read([{"credentials": total, "claimed": claimed, "unclaimed": total - claimed}])


def delete_credentials(ctx: Ctx) -> envelopes.Reply:  # F05
    def apply(item: rules.Item) -> str:
        _creds(ctx).filter(rid=as_int(item.obj["id"])).delete()
        return "deleted"

    return write_batch(
        ctx,
        node="credentials",
        validate=lambda item: rules.validate(item, "credential", "DELETE"),
        apply=apply,
        counters=("deleted",),
    )


# -- fobs -------------------------------------------------------------------------------------


def _fobs(ctx: Ctx):
    return _creds(ctx).filter(fob=True)


def list_fobs(ctx: Ctx) -> envelopes.Reply:  # F27
    return envelopes.read(shapes.fobs(_fobs(ctx)))


def fob_by_id(ctx: Ctx) -> envelopes.Reply:  # F26
    value = ctx.query.get("id", "")
    rid = as_int(value)
    if rid is None:
        return envelopes.get_error(f"Non-Numeric id found: {value}" if value else "Missing or blank id found")
    return envelopes.read(shapes.fobs(_fobs(ctx).filter(rid=rid)))


def fob_by_id_num(ctx: Ctx) -> envelopes.Reply:  # F24 (Pending Release): every fob with it (A68)
    if not ctx.sw("enable_pending_endpoints"):
        return envelopes.not_found()
    return envelopes.read(shapes.fobs(_fobs(ctx).filter(id_num=ctx.query.get("id_num", ""))))


def fob_by_card(ctx: Ctx) -> envelopes.Reply:  # F23
    return envelopes.read(shapes.fobs(_fobs(ctx).filter(card_num=ctx.query.get("card_num", ""))))


def fob_by_name(ctx: Ctx) -> envelopes.Reply:  # F25 [Inference] exact match on the unique name
    return envelopes.read(shapes.fobs(_fobs(ctx).filter(name=ctx.query.get("name", ""))))


def post_fobs(ctx: Ctx) -> envelopes.Reply:
    """F28: insert only; an unheld, unclaimed, disabled credential tagged fob (§9.7)."""

    def apply(item: rules.Item) -> str:
        obj = item.obj
        m.Credential.objects.create(
            instance=ctx.instance,
            rid=ctx.instance.allocate(),
            fob=True,
            name=as_text(obj.get("name")),
            id_num=as_text(obj.get("id_num")),
            card_num=as_text(obj.get("card_num")),
            credential_key=credential_key(),
            claim_status="Unclaimed",
            enabled=False,
            access_effective=parse_date(obj.get("access_effective")),
            access_expires=parse_date(obj.get("access_expires")),
        )
        return "inserted"

    return write_batch(ctx, node="fobs", validate=lambda item: rules.validate(item, "fob", "POST"), apply=apply)


def put_fobs(ctx: Ctx) -> envelopes.Reply:
    """F29: reassign (`user_id` 0 = unassign, L2265) and set the window. The §5 PUT rows apply to
    the keys that are sent; card_num/id_num/name are validated but not applied (§9.7)."""

    def validate(item: rules.Item) -> list[str]:
        obj = item.obj
        messages = []
        rid = as_int(obj.get("id"))
        if blank(obj.get("id")):
            messages.append("Missing or blank id found")
        else:
            fob = _fobs(ctx).filter(rid=rid).first() if rid is not None else None
            if fob is None:
                messages.append(f"Invalid fob id found: {as_text(obj.get('id'))}")
            item.target = fob
        if "user_id" in obj:
            user_rid = as_int(obj["user_id"])
            if user_rid is None or (
                user_rid != 0 and not m.User.objects.filter(instance=ctx.instance, rid=user_rid).exists()
            ):
                messages.append(f"Invalid user_id found: {as_text(obj['user_id'])}")
        return messages + rules.validate(item, "fob", "PUT", present_only=True)

    def apply(item: rules.Item) -> str:
        fob, obj = item.target, item.obj
        if "user_id" in obj:
            user_rid = as_int(obj["user_id"])
            fob.user = None if user_rid == 0 else m.User.objects.get(instance=ctx.instance, rid=user_rid)
        for key in ("access_effective", "access_expires"):
            if key in obj:
                setattr(fob, key, parse_date(obj[key]))
        fob.save()
        return "updated"  # the example says inserted: 1 (A17); updated is what happened

    return write_batch(ctx, node="fobs", validate=validate, apply=apply)


def delete_fobs(ctx: Ctx) -> envelopes.Reply:  # F22
    def apply(item: rules.Item) -> str:
        _fobs(ctx).filter(rid=as_int(item.obj["id"])).delete()
        return "deleted"

    return write_batch(
        ctx,
        node="fobs",
        validate=lambda item: rules.validate(item, "fob", "DELETE"),
        apply=apply,
        counters=("deleted",),
    )
