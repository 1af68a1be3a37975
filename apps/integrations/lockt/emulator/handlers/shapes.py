"""Output shapes of the read endpoints (spec §6 examples), computed in bulk."""

from collections import defaultdict

from apps.integrations.lockt.emulator import models as m
from apps.integrations.lockt.emulator.values import iso, plain


def doors(door_qs) -> list[dict]:
    return [
        {
            "id": d.rid,
            "type": d.type,
            "name": d.name,
            "location": d.location,
            "enabled": d.enabled,
            "controller": d.controller,
        }
        for d in door_qs
    ]


def level_doors(level_ids, *, with_schedule: bool = False) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    rows = (
        m.AccessLevelDoor.objects.filter(level_id__in=level_ids)
        .order_by("level_id", "position", "id")
        .values_list("level_id", "door__rid", "door__name", "schedule__rid")
    )
    for level_id, rid, name, schedule_rid in rows:
        item = {"id": rid, "name": name}
        if with_schedule and schedule_rid is not None:
            item["schedule_id"] = schedule_rid  # the definition's "Door ID and Schedule ID" (A28)
        out[level_id].append(item)
    return out


def access_levels(level_qs, *, with_schedule: bool = False) -> list[dict]:
    """F02: `doors` as `[{id, name}]` (plus `schedule_id` under the switch
    `accesslevel_doors_schedule_id`), the key left out when there are none (L442)."""
    levels = list(level_qs)
    by_level = level_doors([lv.pk for lv in levels], with_schedule=with_schedule)
    out = []
    for lv in levels:
        row = {"id": lv.rid, "name": lv.name}
        if by_level.get(lv.pk):
            row["doors"] = by_level[lv.pk]
        out.append(row)
    return out


def delegates(level_qs) -> list[dict]:
    levels = list(level_qs)
    by_level = level_doors([lv.pk for lv in levels])
    return [
        {
            "id": lv.rid,
            "name": lv.name,
            "access_effective": plain(lv.access_effective),
            "access_expires": plain(lv.access_expires),
            "doors": by_level.get(lv.pk, []),
        }
        for lv in levels
    ]


def credentials(cred_qs) -> list[dict]:
    """F07: `user` as an array of one `{id, name}` ("Last, First"), `[]` with no holder (A31).
    Read as plain rows: a 10,000-credential list made as model instances took 0.3 s."""
    out = []
    columns = ("rid", "card_num", "name", "credential_key", "claim_status", "user_id")
    for c in cred_qs.values(*columns, "user__rid", "user__first_name", "user__last_name"):
        holder = []
        if c["user_id"] is not None:
            holder = [{"id": c["user__rid"], "name": f"{c['user__last_name']}, {c['user__first_name']}"}]
        out.append(
            {
                "id": c["rid"],
                "card_num": c["card_num"],
                "name": c["name"],
                "credential_key": c["credential_key"],
                "claim_status": c["claim_status"],
                "user": holder,
            }
        )
    return out


def fobs(fob_qs) -> list[dict]:
    return [
        {
            "id": f.rid,
            "id_num": f.id_num,
            "name": f.name,
            "card_num": f.card_num,
            "credential_key": f.credential_key,
            "enabled": f.enabled,
            "access_effective": iso(f.access_effective),
            "access_expires": iso(f.access_expires),
            "accesslevels": [],  # no documented call assigns levels to a fob (A48)
        }
        for f in fob_qs
    ]


USER_COLUMNS = (
    "pk",
    "rid",
    "id_num",
    "first_name",
    "last_name",
    "email",
    "phone",
    "access_effective",
    "access_expires",
    "enabled",
    "pin",
)
CREDENTIAL_COLUMNS = ("user_id", "rid", "name", "card_num", "credential_key", "fob")


def users(user_qs, *, detail: bool = False) -> list[dict]:
    """F35 shape (plus `enabled`); `detail` (F39/F40) adds `pin` and `credentials`, and lists
    `accesslevels` as `[{unid, id, name}]` (A30). Three queries whatever the count, read as
    plain rows (10,000 users as model instances took 0.3 s)."""
    rows = list(user_qs.order_by("rid").values(*USER_COLUMNS))
    chosen = user_qs.values("pk")  # a subquery, not a list: no parameter limit at 50k users
    creds: dict[int, list] = defaultdict(list)
    for c in m.Credential.objects.filter(user_id__in=chosen).order_by("rid").values(*CREDENTIAL_COLUMNS):
        creds[c["user_id"]].append(c)
    levels: dict[int, list] = defaultdict(list)
    for user_id, rid, name in (
        m.UserAccessLevel.objects.filter(user_id__in=chosen)
        .order_by("user_id", "position", "id")
        .values_list("user_id", "level__rid", "level__name")
    ):
        levels[user_id].append((rid, name))
    out = []
    for u in rows:
        card = next((c for c in creds[u["pk"]] if not c["fob"]), None)
        row = {
            "id": u["rid"],
            "id_num": u["id_num"],
            "first_name": u["first_name"],
            "last_name": u["last_name"],
            "card_num": card["card_num"] if card else "",
            "credential_key": card["credential_key"] if card else "",
            "email": u["email"],
            "phone": u["phone"],
            "access_effective": iso(u["access_effective"]),
            "access_expires": iso(u["access_expires"]),
            "enabled": u["enabled"],
        }
        if detail:
            row["pin"] = u["pin"]
            row["accesslevels"] = [{"unid": rid, "id": rid, "name": name} for rid, name in levels[u["pk"]]]
            row["credentials"] = [
                {
                    "id": c["rid"],
                    "name": c["name"],
                    "card_num": c["card_num"],
                    "credential_key": c["credential_key"],
                    "fob": c["fob"],
                }
                for c in creds[u["pk"]]
            ]
        else:
            row["accesslevels"] = [{"id": rid, "name": name} for rid, name in levels[u["pk"]]]
        out.append(row)
    return out


def events(event_qs) -> list[dict]:
    out = []
    for e in event_qs:
        row = {
            "id": e.rid,
            "device": e.device,
            "code": e.code,
            "code_text": e.code_text,
        }
        if e.subcode is not None:  # left out when there is none (event 837, L1803)
            row["subcode"] = e.subcode
            row["subcode_text"] = e.subcode_text
        row.update(
            {
                "schedule": e.schedule,
                "controller": e.controller,
                "location": e.location,
                "card_num": e.card_num,
                "user": e.user_name,
                "category": e.category,
                "category_text": e.category_text,
                "hw_time": iso(e.hw_time),
                "db_time": iso(e.db_time),
            }
        )
        out.append(row)
    return out
