"""Device maps: built and sealed once per (device, version) by a worker (PROTOCOL.md §7.4–§7.5).

- `device_maps_request` (event handlers, apps/devices/handlers.py) marks the stored maps of the
  devices a change may reach as behind (`DeviceMap.generation` + 1, in the event's transaction)
  and enqueues `tasks.device_maps_build` for them after commit.
- `device_map_build` (the task, per device) computes the map's content from the person's
  derived access under the device's row lock, moves the version only when the content's digest
  changed, seals that version once and stores it (`DeviceMap`). Idempotent: a device whose
  stored map is current is left alone, so several requests for one device coalesce into one
  build, and a repeat changes nothing.
- `device_maps_build_pending` (beat; `manage.py device_maps_build`) builds what a lost task
  left behind; `device_maps_rebuild` (`manage.py device_maps_build --all`) recomputes every
  device (a build-all: equal content keeps its version and its sealed blob).

syncUserDevice (services.sync) only reads the stored row when it is current; when it is not
(the worker has not run yet), the sync builds it inline once and stores it (PROTOCOL.md §7.5).

The fence (`map_fence`): a property-wide request reaches only devices with a row, so a device's
first build commits its row before reading anything, under an exclusive lock that every request
holds shared from before it looks for devices until it commits (PROTOCOL.md §7.5, "The first
build of a device").
"""

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.access.models import AccessGrant, Membership, UserAccessMap
from apps.core.timestamps import format_timestamp
from apps.devices import protocol, selectors
from apps.devices.models import DeviceMap, UserDevice
from apps.keys import crypto
from apps.keys import selectors as key_selectors
from apps.keys import services as key_services

logger = logging.getLogger("keyhouse.devices")

BUILD_TASK_DEVICES = 200  # device ids per enqueued build task
# PostgreSQL advisory lock of the fence ("khdmfenc"), transaction-scoped: held shared by every
# map request, exclusively while a device's first row is created (PROTOCOL.md §7.5).
FENCE_LOCK_KEY = 0x6B68_646D_6665_6E63


@dataclass(frozen=True)
class MapContent:
    """A device's computed map: its content, digest and the keys of the properties in it."""

    content: dict
    digest: str
    property_keys: dict  # {property_id: the property's active signing Key}

    @property
    def property_ids(self) -> str:
        return ",".join(sorted(self.property_keys))

    @property
    def signing_key_id(self):
        """The one property's signing key (models.DeviceMap.signing_key), or None."""
        return next(iter(self.property_keys.values())).pk if len(self.property_keys) == 1 else None


def property_signing_keys(property_ids: list[str], actor: str) -> dict:
    """{property_id: the property's active signing key}, generated on first use. Phones get the
    active key only (why: apps.keys.selectors, "which property keys sign")."""
    keys = key_selectors.property_active_signing_keys(property_ids)
    for property_id in property_ids:
        if property_id not in keys:
            keys[property_id] = key_services.property_key_ensure(property_id=property_id, actor=actor)
    return keys


def map_compute(device: UserDevice, actor: str) -> MapContent:
    """The content of `device`'s map now (its `access_key` loaded), from the person's derived access."""
    maps = selectors.access_maps_for_user(user_id=device.user_id)
    property_keys = property_signing_keys([str(m.property_id) for m in maps], actor)
    content = selectors.user_device_map_content(device=device, maps=maps, property_keys=property_keys)
    return MapContent(content=content, digest=protocol.map_digest(content), property_keys=property_keys)


def next_version(device: UserDevice, digest: str, held: str) -> int:
    """The version a map of `digest` gets: the stored one, one more when the digest changed,
    and above what the phone holds (`held`) when a restored server is behind it (§9.6)."""
    reported = int(held) if held.isdigit() and len(held) <= 9 else 0
    if reported > device.map_version:
        return reported + 1
    return device.map_version + (digest != device.map_digest)


def map_seal(device: UserDevice, computed: MapContent, version: int, now) -> tuple[str, str, str]:
    """(sealed blob, issuedAt, notAfter) of `version`, sealed to the device's X25519 key (loaded).
    Raises crypto.SealError for a key nothing can be sealed to."""
    issued_at = format_timestamp(now)
    not_after = format_timestamp(now + dt.timedelta(seconds=settings.KEYHOUSE_DEVICE_MAP_TTL_SECONDS))
    document = protocol.map_document(computed.content, version=str(version), issued_at=issued_at, not_after=not_after)
    return protocol.map_seal(document, seal_public_key=device.seal_key.public_key_bytes), issued_at, not_after


def map_store(device: UserDevice, computed: MapContent, *, version: int, sealed: str, now, generation: int) -> None:
    """Store the sealed map of `version`, computed at `generation` (read before computing) on the
    device's row (`map_fence` made it). Never lowers the stored version or built generation:
    a build that a later one overtook leaves the later one's map."""
    DeviceMap.objects.filter(device_id=device.pk, version__lte=version, built_generation__lte=generation).update(
        version=version,
        digest=computed.digest,
        sealed=sealed,
        issued_at=now,
        not_after=now + dt.timedelta(seconds=settings.KEYHOUSE_DEVICE_MAP_TTL_SECONDS),
        property_ids=computed.property_ids,
        signing_key_id=computed.signing_key_id,
        built_generation=generation,
        built_at=now,
    )


def _fence_lock(*, shared: bool) -> None:
    """Take the fence lock until the transaction ends: shared by map requests, exclusive while a
    device's first row is created. PostgreSQL only: on SQLite every transaction begins IMMEDIATE
    (the write lock at BEGIN), so a request's transaction runs wholly before the fence's or after."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [FENCE_LOCK_KEY])


def map_fence(*, device_id) -> None:
    """Create the device's map row (nothing built: behind) and commit it, before its first build
    reads anything (PROTOCOL.md §7.5, "The first build of a device").

    Why: a property-wide request (`device_maps_request`) reaches only devices with a row. Under
    the exclusive fence lock, a request that has already looked for devices (it holds the lock
    shared) has committed before this row does, so the build that follows reads its change; a
    request that looks later sees this row and marks it behind. Either way a map computed
    before a change commits is never stored as current. Must run in its own transaction (not
    inside the build's), so that the row is committed before the build reads."""
    with transaction.atomic():
        _fence_lock(shared=False)
        DeviceMap.objects.bulk_create([DeviceMap(device_id=device_id)], ignore_conflicts=True)


def map_generation(device_id) -> int:
    """The generation a build of the device is computed at: read before anything it computes,
    after fencing a device that has no row yet."""
    generation = DeviceMap.objects.filter(device_id=device_id).values_list("generation", flat=True).first()
    if generation is None:
        map_fence(device_id=device_id)
        generation = DeviceMap.objects.filter(device_id=device_id).values_list("generation", flat=True).first()
    return generation or 1


# --- requests --------------------------------------------------------------------------------


def _enqueue(device_ids: list[str]) -> None:
    from apps.devices import tasks  # local: its tasks module imports this one

    for start in range(0, len(device_ids), BUILD_TASK_DEVICES):
        try:
            tasks.device_maps_build.delay(device_ids[start : start + BUILD_TASK_DEVICES])
        except Exception:  # noqa: BLE001 - broker errors vary by transport; the sweep builds it later
            logger.warning("could not enqueue device-map builds; the sweep will", exc_info=True)


def devices_reached(*, user_ids: Iterable = (), property_ids: Iterable = ()) -> tuple[list[str], list[str]]:
    """(the people's provisioned devices, the devices with a stored map at these properties):
    whose map a change to these people or properties may alter. At a property: everyone its
    derived access, groups or grants name, and every device whose stored map lists it, but only
    devices that already hold a stored map (a device that never synced gets its map built by its
    first sync, so a change to a 10k-person property does not build 10k maps nobody fetched)."""
    user_ids, property_ids = [str(u) for u in user_ids if u], [str(p) for p in property_ids if p]
    people = []
    if user_ids:
        people = UserDevice.objects.filter(user_id__in=user_ids, deprovisioned_at__isnull=True).values_list(
            "pk", flat=True
        )
    reach = Q(pk__in=[])
    for property_id in property_ids:
        reach |= Q(user_id__in=UserAccessMap.objects.filter(property_id=property_id).values("user_id"))
        reach |= Q(user_id__in=Membership.objects.filter(user_group__property_id=property_id).values("user_id"))
        reach |= Q(user_id__in=AccessGrant.objects.filter(property_id=property_id).values("user_id"))
        reach |= Q(built_map__property_ids__contains=property_id)
    at_properties = []
    if property_ids:
        at_properties = UserDevice.objects.filter(
            reach, deprovisioned_at__isnull=True, built_map__isnull=False
        ).values_list("pk", flat=True)
    return sorted({str(pk) for pk in people}), sorted({str(pk) for pk in at_properties})


def device_maps_request(*, user_ids: Iterable = (), property_ids: Iterable = ()) -> list[str]:
    """Mark the stored maps of the devices a change may reach as behind, and build them after
    commit. Returns the device ids. Requests for one device coalesce: the build after the last
    of them finds the others' work done.

    Holds the fence lock shared from before it looks for devices until the caller's transaction
    commits (`map_fence`: a device's first build waits for it, or it sees the device's row)."""
    _fence_lock(shared=True)
    people, at_properties = devices_reached(user_ids=user_ids, property_ids=property_ids)
    # A row for each person's device (a new one has none), so a build racing this request sees it.
    DeviceMap.objects.bulk_create([DeviceMap(device_id=pk) for pk in people], ignore_conflicts=True)
    device_ids = sorted(set(people) | set(at_properties))
    if device_ids:
        DeviceMap.objects.filter(device_id__in=device_ids).update(generation=F("generation") + 1)
        transaction.on_commit(partial(_enqueue, device_ids))
    return device_ids


# --- builds ----------------------------------------------------------------------------------


def device_map_build(*, device_id, actor: str, force: bool = False, now=None) -> bool:
    """Build and store one device's map unless its stored one is current (`force`: recompute
    anyway; equal content keeps its version and sealed blob). Returns whether a new version
    was sealed. Under the device's row lock, so two builds of one device run one after the other.
    A device without a row is fenced first (`map_fence`, its own transaction)."""
    now = now or timezone.now()
    if not DeviceMap.objects.filter(device_id=device_id).exists():
        if not UserDevice.objects.filter(pk=device_id, deprovisioned_at__isnull=True).exists():
            return False
        map_fence(device_id=device_id)
    with transaction.atomic():
        device = (
            UserDevice.objects.select_for_update()
            .select_related("access_key", "seal_key")
            .filter(pk=device_id, deprovisioned_at__isnull=True)
            .first()
        )
        if device is None:
            return False
        stored = DeviceMap.objects.filter(device_id=device.pk).first()
        if stored is None or (stored.current and not force):
            return False
        generation = stored.generation
        computed = map_compute(device, actor)
        version = next_version(device, computed.digest, device.current_user_access_map_version)
        if stored.sealed and stored.version == version and stored.digest == computed.digest:
            stored.built_generation, stored.built_at = generation, now
            stored.signing_key_id = computed.signing_key_id
            stored.save(update_fields=["built_generation", "built_at", "signing_key"])
            return False
        try:
            sealed, _, _ = map_seal(device, computed, version, now)
        except crypto.SealError as exc:  # the sync answers 409 for it (services.sync)
            logger.warning("device %s: cannot seal its access map: %s", device.pk, exc)
            return False
        UserDevice.objects.filter(pk=device.pk).update(map_version=version, map_digest=computed.digest)
        map_store(device, computed, version=version, sealed=sealed, now=now, generation=generation)
        return True


def device_maps_build(*, device_ids: Iterable, actor: str, force: bool = False) -> dict:
    """Build these devices' maps (one transaction each); {"checked", "sealed"}."""
    checked = sealed = 0
    for device_id in device_ids:
        checked += 1
        sealed += device_map_build(device_id=device_id, actor=actor, force=force)
    return {"checked": checked, "sealed": sealed}


def device_maps_pending() -> list[str]:
    """Provisioned devices with no stored map or one behind its requests."""
    behind = Q(built_map__isnull=True) | Q(built_map__built_generation__lt=F("built_map__generation"))
    return [
        str(pk) for pk in UserDevice.objects.filter(behind, deprovisioned_at__isnull=True).values_list("pk", flat=True)
    ]


def device_maps_build_pending(*, actor: str) -> dict:
    """The sweep: build what lost tasks (or a sync's fallback) left behind."""
    return device_maps_build(device_ids=device_maps_pending(), actor=actor)


def device_maps_rebuild(*, actor: str) -> dict:
    """Build-all: recompute every provisioned device's map; only changed content moves a version."""
    ids = [
        str(pk)
        for pk in UserDevice.objects.filter(deprovisioned_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    ]
    return device_maps_build(device_ids=ids, actor=actor, force=True)
