"""Users: F34–F42 (spec §6.9, §9.4 insert/update, §9.5 PUT, §9.11 derived reads)."""

from apps.integrations.lockt.emulator import envelopes, rules
from apps.integrations.lockt.emulator import models as m
from apps.integrations.lockt.emulator.handlers import shapes
from apps.integrations.lockt.emulator.pipeline import Ctx, write_batch
from apps.integrations.lockt.emulator.values import (
    as_bool,
    as_int,
    as_text,
    blank,
    credential_key,
    option,
    parse_date,
    plain,
)


def _card_holders(ctx: Ctx):
    return m.User.objects.filter(instance=ctx.instance, privileged=False)


# -- reads ------------------------------------------------------------------------------------


def list_users(ctx: Ctx) -> envelopes.Reply:  # F35
    return envelopes.read(shapes.users(_card_holders(ctx)))


def user_by_id(ctx: Ctx) -> envelopes.Reply:  # F39
    value = ctx.query.get("id", "")
    if blank(value):
        if ctx.sw("compat_blank_user_selector_returns_all"):  # §7 L339
            return list_users(ctx)
        return envelopes.get_error("Missing or blank id found")
    rid = as_int(value)
    if rid is None:
        return envelopes.get_error(f"Non-Numeric id found: {value}")
    return envelopes.read(shapes.users(_card_holders(ctx).filter(rid=rid), detail=True))


def user_by_id_num(ctx: Ctx) -> envelopes.Reply:  # F40
    value = ctx.query.get("id_num", ctx.query.get("idnum", ""))
    if blank(value):
        if ctx.sw("compat_blank_user_selector_returns_all"):  # §7 L340
            return list_users(ctx)
        return envelopes.get_error("Missing or blank id_num found")
    return envelopes.read(shapes.users(_card_holders(ctx).filter(id_num=value), detail=True))


def users_missing_credentials(ctx: Ctx) -> envelopes.Reply:  # F36: no credential at all [Inference]
    return envelopes.read(shapes.users(_card_holders(ctx).filter(credentials__isnull=True)))


def users_installers(ctx: Ctx) -> envelopes.Reply:  # F38
    return envelopes.read(shapes.users(m.User.objects.filter(instance=ctx.instance, installer=True)))


def users_privileged(ctx: Ctx) -> envelopes.Reply:  # F37
    return envelopes.read(shapes.users(m.User.objects.filter(instance=ctx.instance, privileged=True)))


# -- shared write helpers ---------------------------------------------------------------------


def level_ids(value) -> list[int]:
    if not isinstance(value, list):
        return []  # `{}` is the "empty object" of L3342
    return [as_int(i.get("id", i.get("unid")) if isinstance(i, dict) else i) for i in value]


def set_levels(ctx: Ctx, user: m.User, value, *, replace: bool) -> None:
    """`accesslevels` per `replace_privileges` (L3340–L3342): replace the set, or add to it."""
    wanted = level_ids(value)
    if replace:
        m.UserAccessLevel.objects.filter(user=user).delete()
        current: list[int] = []
    else:
        current = list(m.UserAccessLevel.objects.filter(user=user).values_list("level__rid", flat=True))
    by_rid = {lv.rid: lv for lv in m.AccessLevel.objects.filter(instance=ctx.instance, rid__in=wanted)}
    new = [rid for rid in dict.fromkeys(wanted) if rid not in current and rid in by_rid]
    m.UserAccessLevel.objects.bulk_create(
        m.UserAccessLevel(user=user, level=by_rid[rid], position=len(current) + i) for i, rid in enumerate(new)
    )


def apply_card(ctx: Ctx, user: m.User, value, *, inserting: bool) -> None:
    """`card_num` (L3338–L3339): on insert it creates a card; on update -1 removes every non-fob
    credential, and a number is used only when the user has no card yet."""
    if blank(value):
        return
    has_card = m.Credential.objects.filter(user=user, fob=False)
    if not inserting and as_int(value) == -1:
        has_card.delete()
        return
    if not inserting and has_card.exists():
        return
    card = as_text(value)
    m.Credential.objects.create(
        instance=ctx.instance,
        rid=ctx.instance.allocate(),
        user=user,
        card_num=card,
        name=card,
        credential_key=credential_key(),
        claim_status="Unclaimed",
    )


# -- POST /user (F41) -------------------------------------------------------------------------

PERSON_FIELDS = ("id_num", "first_name", "last_name", "email", "phone", "pin")


def user_item(ctx: Ctx, obj: dict, batch: dict) -> rules.Item:
    """`access_levels` is read as `accesslevels` (A39); errors echo the object as submitted."""
    if "access_levels" in obj and "accesslevels" not in obj:
        normalized = {("accesslevels" if k == "access_levels" else k): v for k, v in obj.items()}
        return rules.Item(instance=ctx.instance, obj=normalized, batch=batch, echo=obj)
    return rules.Item(instance=ctx.instance, obj=obj, batch=batch)


def _classify(ctx: Ctx, obj: dict) -> tuple[str, m.User | None]:
    """§9.4 step 1 (L3336/L3337): `id` -1 → INSERT; the id of a card holder → UPDATE. Legacy
    mode (switch `user_update_match`) matches id_num, email or card_num instead (L3349, L317, L326)."""
    if ctx.sw("user_update_match") == "legacy":
        holders = _card_holders(ctx)
        for key, lookup in (("id_num", "id_num"), ("email", "email__iexact"), ("card_num", "credentials__card_num")):
            if not blank(obj.get(key)) and as_int(obj.get(key)) != -1:
                found = holders.filter(**{lookup: as_text(obj[key])}).first()
                if found:
                    return "UPDATE", found
        return "INSERT", None
    rid = as_int(obj.get("id"))
    if rid is None or rid == -1:
        return "INSERT", None
    found = _card_holders(ctx).filter(rid=rid).first()
    return "UPDATE", found


def post_users(ctx: Ctx) -> envelopes.Reply:
    update_existing = option(ctx.options, "update_existing", False)
    replace = option(ctx.options, "replace_privileges", True)

    def validate(item: rules.Item) -> list[str]:
        sub, target = _classify(ctx, item.obj)
        item.target = target
        item.sub = sub
        if sub == "UPDATE" and not update_existing:
            return []  # ignored, not an error (L3343); counted only in `submitted`
        if sub == "UPDATE" and target is None:  # [Inference] §9.4 step 1: not -1, not a card holder
            return [f"Invalid id found: {as_text(item.obj.get('id'))}"]
        return rules.validate(item, "user", "POST", sub)

    def apply(item: rules.Item) -> str | None:
        obj = item.obj
        if item.sub == "UPDATE":
            if not update_existing:
                return None
            user = item.target
            for key in PERSON_FIELDS:
                setattr(user, key, as_text(obj[key]))
            _dates_and_flag(user, obj)
            user.save()
            apply_card(ctx, user, obj.get("card_num"), inserting=False)
            if "accesslevels" in obj:
                set_levels(ctx, user, obj["accesslevels"], replace=replace)
            return "updated"
        user = m.User(instance=ctx.instance, rid=ctx.instance.allocate(), enabled=True)
        for key in PERSON_FIELDS:
            setattr(user, key, as_text(obj.get(key)))
        _dates_and_flag(user, obj)
        user.save()
        apply_card(ctx, user, obj.get("card_num"), inserting=True)
        if "accesslevels" in obj:
            set_levels(ctx, user, obj["accesslevels"], replace=True)
        return "inserted"

    return write_batch(ctx, node="users", validate=validate, apply=apply, make_item=user_item)


def _dates_and_flag(user: m.User, obj: dict) -> None:
    for key in ("access_effective", "access_expires"):
        if key in obj:
            setattr(user, key, parse_date(obj[key]))
    if "enabled" in obj:
        user.enabled = as_bool(obj["enabled"], user.enabled)


# -- PUT /user (F42) --------------------------------------------------------------------------


def window_messages(
    ctx: Ctx, effective_raw, expires_raw, effective, expires, *, quote_expires: bool, check_past: bool = True
) -> list[str]:
    """The two date rules of PUT /user (L3496) and POST /delegate (L920–L921), with their messages."""
    out = []
    if effective is not None and expires is not None and not effective < expires:
        quoted = expires_raw if quote_expires else effective_raw
        out.append(f"Invalid access_effective date: {as_text(quoted)}, must be before access_expires")
    if check_past and expires is not None and expires < ctx.now:
        out.append(f"Invalid access_expires date: {as_text(expires_raw)}, cannot be in past")
    return out


def put_user(ctx: Ctx) -> envelopes.Reply:
    """Selective update, one object per call (L232, L3489–L3497)."""
    replace = option(ctx.options, "replace_privileges", True)
    put_rules = (
        ("id", rules.missing),
        ("id", rules.non_numeric),
        ("card_num", rules.non_numeric),
        ("card_num", rules.card_length),
        ("access_effective", rules.date_format),
        ("access_expires", rules.date_format),
        ("accesslevels", rules.levels_not_duplicate),
        ("accesslevels", rules.level_ids_valid),
    )

    def validate(item: rules.Item) -> list[str]:
        rid = as_int(item.obj.get("id"))
        item.target = _card_holders(ctx).filter(rid=rid).first() if rid is not None else None
        messages, failed = [], set()
        for key, check in put_rules:
            if key in failed or (key != "id" and key not in item.obj):
                continue
            message = check(item, key)
            if message:
                messages.append(message)
                failed.add(key)
        if "id" not in failed and item.target is None:  # only card holders (F35) are PUT targets
            messages.insert(0, f"Invalid user id found: {as_text(item.obj.get('id'))}")
        if item.target is not None and not failed & {"access_effective", "access_expires"}:
            obj, user = item.obj, item.target
            eff_raw = obj["access_effective"] if "access_effective" in obj else plain(user.access_effective)
            exp_raw = obj["access_expires"] if "access_expires" in obj else plain(user.access_expires)
            messages += window_messages(
                ctx,
                eff_raw,
                exp_raw,
                parse_date(eff_raw),
                parse_date(exp_raw),
                quote_expires=False,
                check_past="access_expires" in obj,
            )
        return messages

    def apply(item: rules.Item) -> str:
        user, obj = item.target, item.obj
        _dates_and_flag(user, obj)
        user.save()
        if "card_num" in obj:
            apply_card(ctx, user, obj["card_num"], inserting=False)
        if "accesslevels" in obj:
            set_levels(ctx, user, obj["accesslevels"], replace=replace)
        return "updated"

    return write_batch(ctx, node="users", validate=validate, apply=apply, limit=1, make_item=user_item)


# -- DELETE /user (F34) -----------------------------------------------------------------------


def delete_users(ctx: Ctx) -> envelopes.Reply:
    def apply(item: rules.Item) -> str:
        """[Inference] removes its non-fob credentials and memberships; its fobs are unassigned."""
        user = m.User.objects.get(instance=ctx.instance, rid=as_int(item.obj["id"]))
        m.Credential.objects.filter(user=user, fob=False).delete()
        user.delete()
        return "deleted"

    return write_batch(
        ctx,
        node="users",
        validate=lambda item: rules.validate(item, "user", "DELETE"),
        apply=apply,
        counters=("deleted",),
    )


# -- POST /anonymize?user_id= (S02, Pending Release) -------------------------------------------


def anonymize(ctx: Ctx) -> envelopes.Reply:
    """§9.8 [Inference]: scrub the person fields and the cached events; keep id, cards, levels."""
    value = ctx.query.get("user_id", "")
    rid = as_int(value)
    user = m.User.objects.filter(instance=ctx.instance, rid=rid).first() if rid is not None else None
    if user is None:
        message = "Missing or blank user_id found" if blank(value) else f"Invalid user_id found: {value}"
        return envelopes.write_failure([envelopes.error_object([message], {"user_id": value})])
    user.first_name, user.last_name = "Anonymized", "User"
    user.email = user.phone = user.pin = ""
    user.id_num = f"anon-{user.rid}"
    user.anonymized = True
    user.save()
    m.Event.objects.filter(instance=ctx.instance, user_rid=user.rid).update(user_name="User, Anonymized")
    return envelopes.write_summary({"submitted": 1, "processed": 1}, [])
