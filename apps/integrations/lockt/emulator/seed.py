# ruff: noqa: E501 - the fixture keeps one record per line, as the dump prints them
"""Instances and their data: the §9.13 doc fixture (assembled from the dump's examples, clashing
ids renumbered) and generated data for benchmarks (bulk inserts, a handful of queries whatever N)."""

from datetime import UTC, datetime, time

from django.db import transaction

from apps.integrations.lockt.emulator import models as m
from apps.integrations.lockt.emulator.values import credential_key

EXAMPLE_APIUSER = "9r8ehveyb5h8mnwwet4yf9ugjynz8pkn"  # §2.3, the dump's example pair
EXAMPLE_APIKEY = "hqx7wde64vwe987fvg6q4zaautrs3p7j"

DATA_MODELS = (
    m.Event,
    m.UserAccessLevel,
    m.Credential,
    m.User,
    m.AccessLevelDoor,
    m.AccessLevel,
    m.Door,
    m.Location,
    m.LocationType,
    m.Schedule,
)


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@transaction.atomic
def instance_create(*, apiuser: str, apikey: str, seed_kind: str = "doc", batch_limit: int = 100) -> m.Instance:
    instance = m.Instance.objects.create(
        apiuser=apiuser, apikey_sha256=m.apikey_digest(apikey), seed=seed_kind, batch_limit=batch_limit
    )
    if seed_kind == "doc":
        load_doc(instance)
    return instance


@transaction.atomic
def reset(instance: m.Instance) -> None:
    """Wipe the instance's data, switches, fault and clock; reload its seed."""
    for model in DATA_MODELS:
        if model in (m.UserAccessLevel, m.AccessLevelDoor):
            continue  # cascade from their parents
        model.objects.filter(instance=instance).delete()
    instance.switches, instance.faults, instance.clock = {}, {}, None
    instance.revoked = False
    instance.next_id, instance.next_event_id = 700000, 1000
    instance.save()
    if instance.seed == "doc":
        load_doc(instance)


def load_doc(instance: m.Instance) -> None:
    """§9.13: schedules 543/1404, location types, locations 123456–8, doors, levels 208/212/512/574
    (+364 of user 1693), users 1693/300/244 (+ a privileged and an installer user), credentials
    613832/614010/335/129813, fobs 443/232, delegates 647929/647936, events 837/864/865."""
    i = instance
    sched = {
        543: m.Schedule(
            instance=i,
            rid=543,
            name="0800-1700 M-F, 1200-1500 Sat",
            d0=1,
            d1=1,
            d2=1,
            d3=1,
            d4=1,
            start=time(8),
            stop=time(16, 59, 59),
        ),
        1404: m.Schedule(
            instance=i, rid=1404, name="Weekend Cleaners", d5=1, d6=1, start=time(6, 40), stop=time(19, 49, 59)
        ),
    }
    m.Schedule.objects.bulk_create(sched.values())
    types = {
        rid: m.LocationType(instance=i, rid=rid, name=name)
        for rid, name in ((23981, "Building"), (1345, "Floor"), (23982, "Region"), (23983, "Campus"))
    }
    m.LocationType.objects.bulk_create(types.values())
    m.Location.objects.bulk_create(
        m.Location(instance=i, rid=rid, name=name, locationtype=types[t], enabled=False)
        for rid, name, t in (
            (123456, "North Region", 23982),
            (123457, "Headquarters", 23983),
            (123458, "University", 23983),
        )
    )
    door_rows = (
        (166, "Office Supplies", "Main Hall", None),
        (174, "Hall Entrance", "", None),
        (603, "Maintenance Office", "", None),
        (187, "Room 1", "", 0.64),
        (446, "Room 2", "", 0.74),
        (611127, "Room 3", "", 0.99),
        (983, "Office Door", "", None),
        (1087, "Front Door", "", None),
    )
    doors = {rid: m.Door(instance=i, rid=rid, name=n, location=loc, battery_level=b) for rid, n, loc, b in door_rows}
    m.Door.objects.bulk_create(doors.values())
    levels = {
        rid: m.AccessLevel(instance=i, rid=rid, name=name)
        for rid, name in (
            (208, "Security"),
            (212, "Administration"),
            (364, "Office Doors"),
            (512, "Cardholder"),
            (574, "Housekeeping"),
        )
    }
    for rid, name in (
        (647929, "delegate_af5abaf069caec3a33047702bfa6128a"),
        (647936, "delegate_0f1fae3f0df3f2526aefddf814ef3056"),
    ):
        levels[rid] = m.AccessLevel(
            instance=i, rid=rid, name=name, delegate=True,
            access_effective=_dt("2022-09-08 11:00:00"), access_expires=_dt("2022-09-08 12:00:00"),
            from_user_rid=1693, to_user_rid=300,
        )  # fmt: skip
    m.AccessLevel.objects.bulk_create(levels.values())
    links = (
        (208, 983, 543),
        (208, 1087, 543),
        (364, 166, 543),
        (364, 174, 543),
        (364, 187, 543),
        (574, 1087, 1404),
        (647929, 187, None),
        (647936, 187, None),
    )
    m.AccessLevelDoor.objects.bulk_create(
        m.AccessLevelDoor(level=levels[lv], door=doors[d], schedule=sched.get(s), position=n)
        for n, (lv, d, s) in enumerate(links)
    )
    people = {
        1693: m.User(instance=i, rid=1693, id_num="329359", first_name="Susan3", last_name="Brown3", email="susan.brown@web.place", phone="33344455555", pin="8822"),
        300: m.User(instance=i, rid=300, id_num="T300", first_name="Test", last_name="User", email="test.user@web.place", phone="8184365100", pin="1111"),
        244: m.User(instance=i, rid=244, id_num="qjwi-880329359", first_name="Rhea", last_name="Greswell", email="rgreswell0@gravatar.com", phone="8184365134", pin="0986"),
        5001: m.User(instance=i, rid=5001, id_num="ADM1", first_name="Alice", last_name="Admin", email="alice.admin@web.place", phone="8184365001", pin="5001", privileged=True),
        5002: m.User(instance=i, rid=5002, id_num="INS1", first_name="Ian", last_name="Installer", email="ian.installer@web.place", phone="8184365002", pin="5002", installer=True),
        5003: m.User(instance=i, rid=5003, id_num="NOCARD1", first_name="Nora", last_name="Nocard", email="nora.nocard@web.place", phone="8184365003", pin="5003"),
    }  # fmt: skip
    m.User.objects.bulk_create(people.values())
    m.UserAccessLevel.objects.bulk_create(
        [
            m.UserAccessLevel(user=people[1693], level=levels[364], position=0),
            m.UserAccessLevel(user=people[300], level=levels[647929], position=0),
            m.UserAccessLevel(user=people[300], level=levels[647936], position=1),
            m.UserAccessLevel(user=people[244], level=levels[574], position=0),
        ]
    )
    creds = (
        (613832, 1693, False, "8769", "8769", "XXXX-XXXX-XXXX-XXXX", "Claimed", "", None, None),
        (614010, 1693, True, "10050", "Fob 1A", "YYYY-YYYY-YYYY-YYYY", "Unclaimed", "10050", None, None),
        (335, 300, False, "1003", "1003", "AAAA-BBBB-1111-2222", "Claimed", "", None, None),
        (129813, 244, False, "1234", "1234", "CCCC-DDDD-5555-6666", "Unclaimed", "", None, None),
        (443, None, True, "10000", "Office Floor 1 FOB 1", "XXXX-XXXX-XXXX-XXXX", "Unclaimed", "10000", "2022-07-10 09:00:00", "2022-07-10 12:00:00"),
        (232, None, True, "11000", "Office Floor 2 FOB 1", "XXXX-XXXX-XXXX-XXXX", "Unclaimed", "10000", "2022-07-10 09:00:00", "2022-07-10 12:00:00"),
        (5102, 5002, False, "5102", "5102", "EEEE-FFFF-7777-8888", "Claimed", "", None, None),
    )  # fmt: skip
    m.Credential.objects.bulk_create(
        m.Credential(
            instance=i, rid=rid, user=people.get(holder), fob=fob, card_num=card, name=name, credential_key=key,
            claim_status=claim, id_num=id_num, access_effective=_dt(eff) if eff else None,
            access_expires=_dt(exp) if exp else None,
        )
        for rid, holder, fob, card, name, key, claim, id_num, eff, exp in creds
    )  # fmt: skip
    base = {"schedule": "", "controller": "Switch™ Bridge"}
    m.Event.objects.bulk_create(
        [
            m.Event(instance=i, rid=837, device="Core 2", code=48, code_text="Access Granted", location="", card_num="1001", user_name="Jackson, Kelly", category=1, category_text="Door Access Granted", hw_time=_dt("2021-11-17 13:58:01"), db_time=datetime(2021, 11, 17, 13, 58, 7, 35000, tzinfo=UTC), **base),
            m.Event(instance=i, rid=864, device="Core 1", code=49, code_text="Access Denied", subcode=104, subcode_text="Battery Missing", location="Main Hall", card_num="1000", user_name="Smith, Sally", category=2, category_text="Door Access Denied", hw_time=_dt("2021-11-18 16:15:25"), db_time=datetime(2021, 11, 19, 0, 44, 6, 950000, tzinfo=UTC), **base),
            m.Event(instance=i, rid=865, device="Core 1", code=49, code_text="Access Denied", subcode=104, subcode_text="Battery Missing", location="Main Hall", card_num="1000", user_name="Jones, Adam", category=2, category_text="Door Access Denied", hw_time=_dt("2021-11-18 16:15:28"), db_time=datetime(2021, 11, 19, 0, 47, 9, 651000, tzinfo=UTC), **base),
        ]
    )  # fmt: skip
    instance.next_event_id = 866
    instance.save(update_fields=["next_event_id"])


@transaction.atomic
def generate(
    instance: m.Instance,
    *,
    users: int = 0,
    levels: int = 0,
    doors: int = 0,
    credentials: int = 0,
    levels_per_user: int = 1,
) -> dict:
    """Bulk data for benchmarks: `doors` doors, `levels` levels (door k in level k mod levels,
    each with an all-week schedule), `users` users (levels round-robin), and a card credential
    for the first `credentials` users. Names and numbers are deterministic (G<n>)."""
    locked = m.Instance.objects.select_for_update().get(pk=instance.pk)
    sched = m.Schedule.objects.filter(instance=locked, name="Always (generated)").first()
    if sched is None and (levels or doors):
        sched = m.Schedule.objects.create(
            instance=locked, rid=locked.allocate(), name="Always (generated)",
            d0=1, d1=1, d2=1, d3=1, d4=1, d5=1, d6=1, start=time(0), stop=time(23, 59, 59),
        )  # fmt: skip
    first = locked.allocate(doors)
    door_objs = m.Door.objects.bulk_create(
        m.Door(instance=locked, rid=first + n, name=f"G Door {first + n}", battery_level=0.9) for n in range(doors)
    )
    first = locked.allocate(levels)
    level_objs = m.AccessLevel.objects.bulk_create(
        m.AccessLevel(instance=locked, rid=first + n, name=f"G Level {first + n}") for n in range(levels)
    )
    if level_objs and door_objs:
        door_objs = list(m.Door.objects.filter(instance=locked, rid__in=[d.rid for d in door_objs]).order_by("rid"))
        level_objs = list(
            m.AccessLevel.objects.filter(instance=locked, rid__in=[lv.rid for lv in level_objs]).order_by("rid")
        )
        m.AccessLevelDoor.objects.bulk_create(
            (
                m.AccessLevelDoor(level=level_objs[n % len(level_objs)], door=door, schedule=sched)
                for n, door in enumerate(door_objs)
            ),
            batch_size=2000,
        )
    first = locked.allocate(users)
    m.User.objects.bulk_create(
        (
            m.User(
                instance=locked, rid=first + n, id_num=f"G{first + n}", first_name=f"Gen{n}", last_name="User",
                email=f"g{first + n}@gen.example", phone=f"555{n:07d}"[:10], pin=f"{n % 10000:04d}",
            )
            for n in range(users)
        ),
        batch_size=2000,
    )  # fmt: skip
    if users:
        user_pks = list(
            m.User.objects.filter(instance=locked, rid__gte=first, rid__lt=first + users)
            .order_by("rid")
            .values_list("pk", "rid")
        )
        all_levels = list(
            m.AccessLevel.objects.filter(instance=locked, delegate=False).order_by("rid").values_list("pk", flat=True)
        )
        if all_levels:
            per = min(levels_per_user, len(all_levels))
            m.UserAccessLevel.objects.bulk_create(
                (
                    m.UserAccessLevel(user_id=pk, level_id=all_levels[(n + k) % len(all_levels)], position=k)
                    for n, (pk, _) in enumerate(user_pks)
                    for k in range(per)
                ),
                batch_size=2000,
            )
        count = min(credentials, users)
        cred_first = locked.allocate(count)
        m.Credential.objects.bulk_create(
            (
                m.Credential(
                    instance=locked, rid=cred_first + n, user_id=pk, card_num=str(cred_first + n), name=str(cred_first + n),
                    credential_key=credential_key(), claim_status="Claimed" if n % 2 else "Unclaimed",
                )
                for n, (pk, _) in enumerate(user_pks[:count])
            ),
            batch_size=2000,
        )  # fmt: skip
    locked.save(update_fields=["next_id"])
    return {"users": users, "levels": levels, "doors": doors, "credentials": min(credentials, users)}


@transaction.atomic
def events_add(instance: m.Instance, events: list[dict], now: datetime) -> list[int]:
    """§9.10 test hook: sequential ids; db_time = now; hw_time given or now; known code texts."""
    from apps.integrations.lockt.emulator.values import as_int, as_text, parse_date

    locked = m.Instance.objects.select_for_update().get(pk=instance.pk)
    texts = {48: ("Access Granted", 1, "Door Access Granted"), 49: ("Access Denied", 2, "Door Access Denied")}
    rows, ids = [], []
    for spec in events:
        code = as_int(spec.get("code", 48)) or 48
        code_text, category, category_text = texts.get(code, ("", 0, ""))
        rid = locked.next_event_id
        locked.next_event_id += 1
        ids.append(rid)
        subcode = as_int(spec.get("subcode")) if spec.get("subcode") is not None else None
        rows.append(
            m.Event(
                instance=locked, rid=rid, device=as_text(spec.get("device")), code=code,
                code_text=as_text(spec.get("code_text", code_text)), subcode=subcode,
                subcode_text=as_text(spec.get("subcode_text", "Battery Missing" if subcode == 104 else "")),
                schedule=as_text(spec.get("schedule")), controller=as_text(spec.get("controller", "Switch™ Bridge")),
                location=as_text(spec.get("location")), card_num=as_text(spec.get("card_num")),
                user_name=as_text(spec.get("user")), user_rid=as_int(spec.get("user_id")),
                category=as_int(spec.get("category", category)) or 0,
                category_text=as_text(spec.get("category_text", category_text)),
                hw_time=parse_date(spec.get("hw_time")) or now, db_time=now,
            )
        )  # fmt: skip
    m.Event.objects.bulk_create(rows)
    locked.save(update_fields=["next_event_id"])
    return ids
