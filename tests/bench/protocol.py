"""Lock and device protocol benchmark (issue 6, "Performance"): what syncs and key maps cost.

Run by tests/bench/run.py (`BENCH_PARTS=protocol`), one fresh process per step, each printing
one JSON line (the last line of its stdout); `setup` also writes the load run's state file:

    python -m tests.bench.protocol seed            # the 10k-user campus + a phone for every user
    python -m tests.bench.protocol build           # sign every key map of its 1,000 locks, timed
    python -m tests.bench.protocol revoke          # membership removals: what a change rebuilds
    python -m tests.bench.protocol setup STATE     # bench locks and phones, first syncs, counts

The property is tests/bench/access.py's 10k-user campus (1,000 locks, 10,000 users), reused
when the access part ran first in the same database, else seeded the same way and derived
(`derive.property_rebuild`). `seed` gives every user one phone: a UserDevice with its three
keys (deviceAccessKey, deviceSyncKey Ed25519 + X25519), freshly generated key pairs written
with `bulk_create` (bench-only: no `device.provisioned` events, no per-row service checks).

`build` measures one Ed25519 signature (`apps.keys.crypto.sign` over a 64-byte message, median
of batches, before and after), then times `key_maps_build` of the campus with no map signed
yet: every lock's map is computed from derived lines, device keys and schedules, signed and
stored. Every call of `crypto.sign` during the build is counted and timed. A second build
(nothing changed: computes and compares every map, signs none) is timed for information.

`revoke` (issue 17) removes residents with a phone from a group, BENCH_REVOKE_RUNS times each
(default 7; each put back, untimed, after its run): the Pool pass (one lock names it) and the
group of theirs that the most locks name. Timed together as a worker runs them: the service,
its events, then the key-map build they asked for; the build's locks computed and signed and
its SQL queries are counted, the change's recorded latency (`signed_after_ms`) is read back, and
the new maps are checked (the removed resident's key gone, no lock that does not name the group
signed).

`setup` provisions bench locks through the API (`POST /api/v1/locks` with `areaId`, applied
by the reference lock, tests/locks/reference_lock.py) into the area whose campus lock has the
smallest key map of at least 1,000 entries, and phones (tests/devices/phone.py) for new
residents signed in by password; processes the events as a worker would (key-map builds held
back, then one build). Then, in-process (Django test client), each lock's first sync, which delivers its
stored key map (the signatures and seals made during that request are counted: the answer's
one signature, none for the map), the sync that acknowledges it and a no-change sync; each
phone's first sync (delivers its sealed map) and a no-change sync; signatures, seals and SQL
queries counted for each. The state file (secrets of bench-only locks and phones in the
bench's temporary directory) lets the load run (part_protocol.py) sign its requests:
`Generator` below.
"""

import json
import os
import resource
import statistics
import sys
import time
from contextlib import contextmanager

from tests.bench.access import BIG, CAMPUS_NAMES, _events_to_list, _setup

PHONE_PASSWORD = "bench phone password"
SIGN_BATCH, SIGN_BATCHES = 200, 15  # Ed25519 timing: median of batches of this many signatures
TARGET_ENTRIES = 1000  # the delivered key map: the smallest campus map with at least this many entries
DEVICE_BATCH = 2000


# --- counting -------------------------------------------------------------------------------


@contextmanager
def counting():
    """Count (and time) `crypto.sign` and `crypto.seal` calls, and SQL queries, inside the block.

    Every signature Keyhouse makes goes through `apps.keys.crypto.sign` (canonical.sign_payload
    calls it by attribute), every seal through `crypto.seal`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.keys import crypto

    real_sign, real_seal = crypto.sign, crypto.seal
    counts = {"signatures": [], "seals": 0, "sign_seconds": 0.0}

    def sign(private, message):
        started = time.perf_counter()
        try:
            return real_sign(private, message)
        finally:
            counts["sign_seconds"] += time.perf_counter() - started
            counts["signatures"].append(bytes(message[:48]).split(b"\n", 1)[0].decode(errors="replace"))

    def seal(*args, **kwargs):
        counts["seals"] += 1
        return real_seal(*args, **kwargs)

    crypto.sign, crypto.seal = sign, seal
    try:
        with CaptureQueriesContext(connection) as captured:
            yield counts
    finally:
        crypto.sign, crypto.seal = real_sign, real_seal
        counts["queries"] = len(captured)
        counts["sql"] = [q["sql"] for q in captured.captured_queries]


def _process(appended: list) -> int:
    """Process every appended event in order, as a worker would (handlers may append more)."""
    from apps.events.services import event_process

    done = 0
    while appended:
        batch = list(appended)
        appended.clear()
        for event_id in batch:
            event = event_process(event_id=event_id)
            if event is None or event.processed_at is None:
                raise SystemExit(f"protocol bench: event {event_id} not processed: {event and event.last_error}")
            done += 1
    return done


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- seed -------------------------------------------------------------------------------------


def _campus():
    """The 10k campus: the access part's when it ran (same database), else seeded and derived."""
    from apps.access import derive
    from apps.properties.models import Property
    from tests.bench import access

    prop = Property.objects.filter(display_name=CAMPUS_NAMES[BIG]).first()
    if prop is not None:
        return prop, {"reused": True}
    started = time.perf_counter()
    counts = access.campus_seed(BIG)
    seeded = time.perf_counter() - started
    prop = Property.objects.get(pk=counts["property_id"])
    started = time.perf_counter()
    derive.property_rebuild(property_id=prop.pk)
    return prop, {
        "reused": False,
        "seed_seconds": round(seeded, 1),
        "derive_seconds": round(time.perf_counter() - started, 1),
    }


def _devices_bulk(users: list) -> int:
    """One phone per person: a UserDevice and its three keys, generated here (bench-only bulk)."""
    from django.db import transaction

    from apps.core.actors import SYSTEM
    from apps.devices.models import UserDevice
    from apps.keys import crypto
    from apps.keys.choices import KeyAlgorithm, KeyKeyMode, KeyOwnerType, KeyPurpose
    from apps.keys.models import Key

    kinds = (
        ("access_key", KeyPurpose.DEVICE_ACCESS_KEY, KeyKeyMode.SIGN_VERIFY, KeyAlgorithm.ED25519),
        ("sync_key", KeyPurpose.DEVICE_SYNC_KEY, KeyKeyMode.SIGN_VERIFY, KeyAlgorithm.ED25519),
        ("seal_key", KeyPurpose.DEVICE_SYNC_KEY, KeyKeyMode.ENCRYPT_DECRYPT, KeyAlgorithm.X25519),
    )
    made = 0
    for start in range(0, len(users), DEVICE_BATCH):
        keys, devices = [], []
        for user in users[start : start + DEVICE_BATCH]:
            device = UserDevice(
                user=user,
                device_type="iOS",
                make_model="iPhone 15",
                display_name=f"{user.display_name}'s phone",
                last_modified_by=SYSTEM,
            )
            for attribute, purpose, mode, algorithm in kinds:
                pair = crypto.generate(str(algorithm))
                key = Key(
                    kid=pair.kid,
                    owner_type=KeyOwnerType.USER_DEVICE,
                    owner_id=device.id,
                    purpose=purpose,
                    key_mode=mode,
                    algorithm=algorithm,
                    public_key=pair.public,
                    last_modified_by=SYSTEM,
                )
                setattr(device, attribute, key)
                keys.append(key)
            devices.append(device)
        with transaction.atomic():
            Key.objects.bulk_create(keys, batch_size=DEVICE_BATCH)
            UserDevice.objects.bulk_create(devices, batch_size=DEVICE_BATCH)
        made += len(devices)
    return made


def step_seed() -> dict:
    from django.db import connection

    from apps.accounts.models import User
    from apps.devices.models import UserDevice

    _events_to_list()
    prop, campus = _campus()
    slug = f"c{BIG}-"
    users = list(User.objects.filter(email__startswith=slug).exclude(devices__isnull=False).order_by("email"))
    started = time.perf_counter()
    made = _devices_bulk(users)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "property_id": str(prop.pk),
        "campus": campus,
        "devices": UserDevice.objects.filter(user__email__startswith=slug).count(),
        "devices_made": made,
        "devices_seconds": round(time.perf_counter() - started, 1),
    }


# --- build ------------------------------------------------------------------------------------


def sign_cost() -> dict:
    """One Ed25519 signature (`crypto.sign`, 64-byte message): median µs of batches."""
    from apps.keys import crypto

    pair = crypto.generate(crypto.ED25519)
    message = bytes(range(64))
    for _ in range(SIGN_BATCH):  # warm-up
        crypto.sign(pair.private, message)
    per_call = []
    for _ in range(SIGN_BATCHES):
        started = time.perf_counter()
        for _ in range(SIGN_BATCH):
            crypto.sign(pair.private, message)
        per_call.append((time.perf_counter() - started) / SIGN_BATCH)
    return {"median_us": statistics.median(per_call) * 1e6, "min_us": min(per_call) * 1e6}


def step_build() -> dict:
    import gc

    from django.db import connection
    from django.db.models import Max, Sum

    from apps.locks.models import Lock, SignedKeyMap
    from apps.locks.services import key_maps_build
    from apps.properties.models import Property

    _events_to_list()
    prop = Property.objects.get(display_name=CAMPUS_NAMES[BIG])
    if SignedKeyMap.objects.filter(lock__property=prop).exists():
        raise SystemExit("protocol build: the campus already has signed key maps (expected a fresh bench database)")
    connection.ensure_connection()
    before = sign_cost()
    gc.collect()
    rss = _maxrss_mib()
    started = time.perf_counter()
    with counting() as counts:
        build = key_maps_build(property_id=prop.pk, reason="rebuild", every_lock=True)
    seconds = time.perf_counter() - started
    growth = _maxrss_mib() - rss
    after = sign_cost()
    started = time.perf_counter()
    again = key_maps_build(property_id=prop.pk, reason="rebuild", every_lock=True)
    again_seconds = time.perf_counter() - started
    maps = SignedKeyMap.objects.filter(lock__property=prop)
    entries = sorted(maps.values_list("entry_count", flat=True))
    contexts = sorted(set(counts["signatures"]))
    one_sign_us = statistics.median([before["median_us"], after["median_us"]])
    return {
        "locks": Lock.objects.alive().filter(property=prop).count(),
        "locks_checked": build.locks_checked,
        "locks_signed": build.locks_signed,
        "seconds": round(seconds, 2),
        "maxrss_growth_mib": round(growth, 1),
        "signatures": len(counts["signatures"]),
        "signature_contexts": contexts,
        "sign_seconds_in_build": round(counts["sign_seconds"], 3),
        "queries": counts["queries"],
        "entries_total": maps.aggregate(n=Sum("entry_count"))["n"] or 0,
        "entries_median": statistics.median(entries) if entries else 0,
        "entries_max": maps.aggregate(n=Max("entry_count"))["n"] or 0,
        "sign_us_before": round(before["median_us"], 1),
        "sign_us_after": round(after["median_us"], 1),
        "sign_us": round(one_sign_us, 1),
        "ratio": seconds / (one_sign_us / 1e6),
        "again_seconds": round(again_seconds, 2),
        "again_signed": again.locks_signed,
    }


# --- revoke -----------------------------------------------------------------------------------

REVOKE_RUNS = max(3, int(os.environ.get("BENCH_REVOKE_RUNS", "7")))


class Revocation:
    """One resident (with a phone) removed from a group, as a worker runs it: the service, its
    events, then the key-map build the events asked for; timed together, with what the build
    computed and signed, its SQL queries, and the latency recorded on the change
    (KeyMapRequest.signed_after_ms). The resident is put back (untimed) after each run."""

    def __init__(self, prop, group, users: list, appended: list):
        self.prop, self.group, self.users, self.appended = prop, group, users, appended
        self.samples: list[dict] = []

    def _settle(self) -> None:
        from apps.locks.services import key_maps_build, key_maps_pending

        _process(self.appended)
        for property_id in key_maps_pending():
            key_maps_build(property_id=property_id)

    def run(self, user, *, record: bool = True) -> None:
        from apps.access import services as access_services
        from apps.access.selectors import lock_ids_naming
        from apps.core.actors import SYSTEM
        from apps.devices.models import UserDevice
        from apps.locks.models import KeyMapRequest, Lock, SignedKeyMap
        from apps.locks.services import key_maps_build, key_maps_pending

        versions = dict(Lock.objects.filter(property=self.prop).values_list("id", "signed_key_map_version"))
        named = lock_ids_naming(group_ids=[self.group.pk], property_ids=[self.prop.pk]).get(str(self.prop.pk), set())
        self.appended.clear()
        started = time.perf_counter()
        access_services.membership_remove(group=self.group, user=user, actor=SYSTEM)
        service = time.perf_counter() - started
        events = list(self.appended)
        _process(self.appended)
        processed = time.perf_counter() - started
        with counting() as counts:
            builds = [key_maps_build(property_id=p) for p in key_maps_pending()]
        total = time.perf_counter() - started
        request = KeyMapRequest.objects.get(event_id__in=[str(e) for e in events], reason="group.member_removed")
        after = dict(Lock.objects.filter(property=self.prop).values_list("id", "signed_key_map_version"))
        moved = {str(lock_id) for lock_id, version in after.items() if version != versions.get(lock_id)}
        kids = set(UserDevice.objects.filter(user=user).values_list("access_key__kid", flat=True))
        for key_map in SignedKeyMap.objects.filter(lock_id__in=list(moved)).order_by("-version"):
            if key_map.version == after[key_map.lock_id] and kids & {e["kid"] for e in key_map.payload["entries"]}:
                raise SystemExit("protocol revoke: a new map still carries the removed resident's key")
        if not moved <= named:
            raise SystemExit("protocol revoke: a lock whose lines do not name the group got a new map")
        if record:
            self.samples.append(
                {
                    "total_ms": total * 1000,
                    "service_ms": service * 1000,
                    "processing_ms": (processed - service) * 1000,
                    "build_ms": (total - processed) * 1000,
                    "signed_after_ms": request.signed_after_ms,
                    "locks_computed": sum(b.locks_checked for b in builds),
                    "locks_signed": sum(b.locks_signed for b in builds),
                    "locks_naming_group": len(named),
                    "queries": counts["queries"],
                    "signatures": len(counts["signatures"]),
                }
            )
        access_services.membership_add(group=self.group, user=user, actor=SYSTEM)
        self._settle()

    def summary(self) -> dict:
        def median(key):
            return round(statistics.median(s[key] for s in self.samples), 1)

        totals = sorted(s["total_ms"] for s in self.samples)
        return {
            "group": self.group.display_name,
            "runs": len(self.samples),
            "total_ms_median": median("total_ms"),
            "total_ms_max": round(totals[-1], 1),
            "service_ms": median("service_ms"),
            "processing_ms": median("processing_ms"),
            "build_ms": median("build_ms"),
            "signed_after_ms_median": median("signed_after_ms"),
            "signed_after_ms_max": max(s["signed_after_ms"] for s in self.samples),
            "locks_computed": sorted({s["locks_computed"] for s in self.samples}),
            "locks_signed": sorted({s["locks_signed"] for s in self.samples}),
            "locks_naming_group": self.samples[0]["locks_naming_group"],
            "build_queries": sorted({s["queries"] for s in self.samples}),
            "signatures": sorted({s["signatures"] for s in self.samples}),
        }


def step_revoke() -> dict:
    """After `build`: residents with phones removed from the Pool pass (a group one lock names)
    and from the group of theirs that the most locks name; REVOKE_RUNS timed removals each."""
    from apps.access import services as access_services
    from apps.access.models import AccessBlock, Membership, UserGroup
    from apps.access.selectors import lock_ids_naming
    from apps.accounts.models import User
    from apps.core.actors import SYSTEM
    from apps.locks.models import Lock
    from apps.locks.services import key_maps_build, key_maps_pending

    appended = _events_to_list()
    prop = _big_campus()
    locks = Lock.objects.alive().filter(property=prop).count()
    for property_id in key_maps_pending():  # leftovers of earlier steps
        key_maps_build(property_id=property_id)
    blocked = AccessBlock.objects.filter(property=prop).values("user_id")
    residents = UserGroup.objects.get(property=prop, group_source="property", group_type="resident")
    people = list(
        User.objects.filter(memberships__user_group=residents, devices__isnull=False)
        .exclude(pk__in=blocked)
        .distinct()
        .order_by("email")[: 2 * (REVOKE_RUNS + 1)]
    )
    pool = UserGroup.objects.get(property=prop, display_name="Pool pass")
    pool_people = people[: REVOKE_RUNS + 1]
    for person in pool_people:  # they hold the pass first (untimed)
        access_services.membership_add(group=pool, user=person, actor=SYSTEM)
    pool_revocation = Revocation(prop, pool, pool_people, appended)
    pool_revocation._settle()
    # the group of the first other resident that the most locks name
    other = people[REVOKE_RUNS + 1 :]
    groups = Membership.objects.filter(user=other[0], user_group__property=prop).values_list("user_group_id", flat=True)
    sizes = {g: len(lock_ids_naming(group_ids=[g], property_ids=[prop.pk]).get(str(prop.pk), ())) for g in groups}
    widest = UserGroup.objects.get(pk=max(sorted(sizes, key=str), key=lambda g: sizes[g]))
    other = [u for u in other if Membership.objects.filter(user_group=widest, user=u).exists()]
    wide_revocation = Revocation(prop, widest, other, appended)
    out = {"locks": locks}
    for name, revocation in (("pool", pool_revocation), ("widest", wide_revocation)):
        revocation.run(revocation.users[0], record=False)  # warm-up: a process's first change
        for user in revocation.users[1 : REVOKE_RUNS + 1]:
            revocation.run(user)
        out[name] = revocation.summary()
    return out


def _big_campus():
    from apps.properties.models import Property

    return Property.objects.get(display_name=CAMPUS_NAMES[BIG])


# --- setup ------------------------------------------------------------------------------------


def _area_for_delivery(prop) -> tuple:
    """(area, entry count): the area of the campus lock with the smallest key map of at least
    1,000 entries (on the campus: a building's front door or one of its common rooms)."""
    from apps.areas.models import Area
    from apps.locks.models import SignedKeyMap

    rows = SignedKeyMap.objects.filter(lock__property=prop, lock__area__isnull=False).values_list(
        "entry_count", "lock_id", "lock__area_id"
    )
    entries, _, area_id = min(
        rows, key=lambda r: (r[0] < TARGET_ENTRIES, r[0] if r[0] >= TARGET_ENTRIES else -r[0], str(r[1]))
    )
    return Area.objects.get(pk=area_id), entries


def _client(**headers):
    from django.conf import settings
    from django.test import Client

    return Client(HTTP_HOST=settings.ALLOWED_HOSTS[0], **headers)


def _json(response, what: str) -> dict:
    if response.status_code != 200:
        raise SystemExit(f"protocol setup: {what} answered {response.status_code}: {response.content[:400]!r}")
    return response.json()


def _put(client, path: str, body: dict, counts: list | None = None):
    """PUT the signed body (made before, so the lock's or phone's own signature is not counted);
    with `counts`, count what the server does for the request and append it."""
    data = json.dumps(body)
    if counts is None:
        return client.put(path, data, content_type="application/json")
    with counting() as counted:
        response = client.put(path, data, content_type="application/json")
    counts.append(counted)
    return response


def _lock_sync(client, lock, counts: list | None = None):
    return _put(client, f"/api/v1/locks/{lock.lock_id}/sync", lock.sync_body(), counts)


def _phone_sync(client, phone, counts: list | None = None):
    path = f"/api/v1/users/{phone.user_id}/devices/{phone.user_device_id}/sync"
    return _put(client, path, phone.sync_body(), counts)


def _summary(counts: dict) -> dict:
    return {
        "signatures": len(counts["signatures"]),
        "contexts": counts["signatures"],
        "seals": counts["seals"],
        "queries": counts["queries"],
        "sql": counts["sql"],
    }


def _bench_locks(prop, area, count: int, manager) -> list:
    from tests.locks.reference_lock import ReferenceLock

    locks = []
    for n in range(count):
        lock = ReferenceLock()
        body = lock.provision_body(f"Bench lock {n + 1}", propertyId=str(prop.pk), areaId=str(area.pk))
        lock.apply_command(_json(manager.post("/api/v1/locks", body, content_type="application/json"), "provisionLock"))
        locks.append(lock)
    return locks


def _bench_phones(prop, count: int) -> list:
    """New residents (like one of the campus's: Residents, a building's group, a unit's group),
    signed in by password, each provisioning a phone through the API."""
    from apps.access import services as access_services
    from apps.access.models import Membership, UserGroup
    from apps.accounts import services as account_services
    from apps.accounts.models import User
    from apps.core.actors import SYSTEM
    from tests.devices.phone import Phone

    model = User.objects.filter(email=f"c{BIG}-resident-0@bench.test").first()
    groups = list(
        UserGroup.objects.filter(pk__in=Membership.objects.filter(user=model).values("user_group_id")).order_by("id")
    )
    phones = []
    for n in range(count):
        user = account_services.user_create(
            email=f"bench-phone-{n}@bench.test", display_name=f"Bench phone {n}", password=PHONE_PASSWORD, actor=SYSTEM
        )
        for group in groups:
            if group.property_id == prop.pk:
                access_services.membership_add(group=group, user=user, actor=SYSTEM)
        token = _json(
            _client().post(
                "/api/v1/auth/token",
                {"email": user.email, "password": PHONE_PASSWORD},
                content_type="application/json",
            ),
            "createAuthToken",
        )["data"]["token"]
        phone = Phone.generate()
        client = _client(HTTP_AUTHORIZATION=f"Bearer {token}")
        device = _json(
            client.post(f"/api/v1/users/{user.pk}/devices", phone.provision_body(), content_type="application/json"),
            "provisionUserDevice",
        )["data"]
        phone.user_id, phone.user_device_id = str(user.pk), device["userDeviceId"]
        phones.append((phone, token))
    return phones


def step_setup(state_path: str, connections: int) -> dict:
    from apps.accounts import services as account_services
    from apps.core.actors import SYSTEM
    from apps.core.principal import Grant
    from apps.locks.models import SignedKeyMap
    from apps.locks.services import key_maps_build
    from apps.properties.models import Property

    appended = _events_to_list()
    prop = Property.objects.get(display_name=CAMPUS_NAMES[BIG])
    area, campus_entries = _area_for_delivery(prop)
    _, secret = account_services.api_key_create(
        display_name="bench protocol",
        grants=[Grant("owner", property_id=prop.pk), Grant("provision-lock", property_id=prop.pk)],
        actor=SYSTEM,
    )
    manager = _client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    locks = _bench_locks(prop, area, connections + 1, manager)
    phones = _bench_phones(prop, connections)
    events = _process(appended)
    started = time.perf_counter()
    build = key_maps_build(property_id=prop.pk)
    build_seconds = time.perf_counter() - started

    out = {
        "area": area.display_name,
        "campus_entries": campus_entries,
        "events": events,
        "incremental_build": {
            "seconds": round(build_seconds, 2),
            "checked": build.locks_checked,
            "signed": build.locks_signed,
        },
    }
    # The delivering sync: the lock holds no map, the server has one signed for it.
    delivering, *loaded = locks
    client = _client(HTTP_AUTHORIZATION=f"Bearer {delivering.api_secret}")
    stored = SignedKeyMap.objects.filter(lock_id=delivering.lock_id).order_by("-version").first()
    counts = []
    response = _lock_sync(client, delivering, counts)
    body = _json(response, "syncLock (delivering)")
    if body.get("keyMap") is None or body["keyMap"]["signatures"] != stored.signatures:
        raise SystemExit("protocol setup: the delivering sync did not hand out the stored, worker-signed key map")
    delivering.receive_sync(body)  # the reference lock verifies the answer and applies the map
    out["delivering"] = {
        **_summary(counts[0]),
        "entries": len(body["keyMap"]["payload"]["entries"]),
        "key_map_bytes": len(json.dumps(body["keyMap"], separators=(",", ":"))),
        "response_bytes": len(response.content),
        "worker_signatures": len(stored.signatures),
    }
    # Then every lock: its first sync (delivers the map), the ack, a no-change sync (counted).
    for lock in loaded:
        client = _client(HTTP_AUTHORIZATION=f"Bearer {lock.api_secret}")
        for _ in range(2):
            lock.receive_sync(_json(_lock_sync(client, lock), "syncLock"))
        if lock.pending_ack is not None:
            raise SystemExit("protocol setup: a bench lock's acknowledgement was not accepted")
        counts = []
        answer = _json(_lock_sync(client, lock, counts), "syncLock (no change)")
        lock.receive_sync(answer)
        if answer.get("keyMap") is not None:
            raise SystemExit("protocol setup: a no-change sync carried a key map")
        out["lock_no_change"] = _summary(counts[0])
    for phone, token in phones:
        client = _client(HTTP_AUTHORIZATION=f"Bearer {token}")
        counts = []
        opened = phone.receive(_json(_phone_sync(client, phone, counts), "syncUserDevice (delivering)"))
        if opened is None:
            raise SystemExit("protocol setup: a phone's first sync delivered no map")
        out["device_delivering"] = {**_summary(counts[0]), "entries": len(opened["entries"])}
        counts = []
        if phone.receive(_json(_phone_sync(client, phone, counts), "syncUserDevice (no change)")) is not None:
            raise SystemExit("protocol setup: a no-change device sync delivered a map")
        out["device_no_change"] = _summary(counts[0])
    state = {
        "locks": [lock_state(lock) for lock in loaded],
        "phones": [phone_state(phone, token) for phone, token in phones],
    }
    with open(state_path, "w") as handle:
        json.dump(state, handle)
    return out


# --- the load run's signed requests (no Django: used by part_protocol.py) -------------------------


def _raw_private(key) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    ).hex()


def lock_state(lock) -> dict:
    return {
        "signing_key": _raw_private(lock.signing_key),
        "seal_key": _raw_private(lock.seal_key),
        "clock_offset": lock.clock_offset,
        "clock_trusted": lock.clock_trusted,
        "lock_id": lock.lock_id,
        "api_secret": lock.api_secret,
        "property_id": lock.property_id,
        "area_id": lock.area_id,
        "trusted": {kid: public.hex() for kid, public in lock.trusted.items()},
        "logs_key": lock.logs_key,
        "command_sequence": lock.command_sequence,
        "key_map_version": lock.key_map["keyMapVersion"],
        "sync_sequence": lock.sync_sequence,
    }


def phone_state(phone, token: str) -> dict:
    return {
        "keys": {name: bytes(getattr(phone, name).private).hex() for name in ("access", "sync", "seal")},
        "user_id": phone.user_id,
        "user_device_id": phone.user_device_id,
        "counter": phone.counter,
        "access_map": phone.access_map,
        "not_after": phone.not_after,
        "token": token,
    }


def lock_restore(state: dict):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from tests.locks.reference_lock import ReferenceLock

    lock = ReferenceLock(
        signing_key=Ed25519PrivateKey.from_private_bytes(bytes.fromhex(state["signing_key"])),
        seal_key=X25519PrivateKey.from_private_bytes(bytes.fromhex(state["seal_key"])),
        clock_offset=state["clock_offset"],
        clock_trusted=state.get("clock_trusted", True),
        lock_id=state["lock_id"],
        api_secret=state["api_secret"],
        property_id=state["property_id"],
        area_id=state["area_id"],
        trusted={kid: bytes.fromhex(public) for kid, public in state["trusted"].items()},
        logs_key=state["logs_key"],
        command_sequence=state["command_sequence"],
        # the load run only needs the version it holds (a no-change sync reports it)
        key_map={"keyMapVersion": state["key_map_version"]},
        sync_sequence=state["sync_sequence"],
    )
    return lock


def phone_restore(state: dict):
    from apps.keys import crypto
    from tests.devices.phone import Phone

    def pair(algorithm, private_hex):
        private = bytes.fromhex(private_hex)
        return crypto.KeyPair(algorithm, crypto.SecretBytes(private), crypto.public_key(algorithm, private))

    keys = state["keys"]
    return Phone(
        access=pair(crypto.ED25519, keys["access"]),
        sync=pair(crypto.ED25519, keys["sync"]),
        seal=pair(crypto.X25519, keys["seal"]),
        user_id=state["user_id"],
        user_device_id=state["user_device_id"],
        counter=state["counter"],
        access_map=state["access_map"],
        not_after=state["not_after"],
    )


class Generator:
    """One load connection's stream of fresh signed requests: a bench lock's no-change syncLock
    (syncSequence +1, new nonce, current syncDate) or a phone's no-change syncUserDevice
    (syncCounter +1). Numbers generated but never sent are gaps, which both protocols allow."""

    def __init__(self, kind: str, state: dict):
        self.kind = kind
        if kind == "lock":
            self.party = lock_restore(state)
            self.path = f"/api/v1/locks/{state['lock_id']}/sync"
            self.bare = f"/bench/bare/locks/{state['lock_id']}/sync"
            self.auth = f"Bearer {state['api_secret']}"
        else:
            self.party = phone_restore(state)
            self.path = f"/api/v1/users/{state['user_id']}/devices/{state['user_device_id']}/sync"
            self.bare = f"/bench/bare/users/{state['user_id']}/devices/{state['user_device_id']}/sync"
            self.auth = f"Bearer {state['token']}"

    def body(self) -> str:
        return json.dumps(self.party.sync_body(), separators=(",", ":"))

    def check(self, answer: dict) -> None:
        """The reference lock / phone accepts the answer to the body just generated (signature,
        nonce or counter, nothing delivered)."""
        if self.kind == "lock":
            data = self.party.receive_sync(answer)
            if answer.get("keyMap") is not None or not data["accepted"]:
                raise ValueError("a no-change sync answered a key map or was not accepted")
        elif self.party.receive(answer) is not None:
            raise ValueError("a no-change device sync delivered a map")


STEPS = {"seed": step_seed, "build": step_build, "revoke": step_revoke}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in (*STEPS, "setup"):
        raise SystemExit("usage: python -m tests.bench.protocol {seed|build|revoke|setup STATE CONNECTIONS}")
    _setup()
    if sys.argv[1] == "setup":
        print(json.dumps(step_setup(sys.argv[2], int(sys.argv[3]))))
    else:
        print(json.dumps(STEPS[sys.argv[1]]()))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")
    main()
