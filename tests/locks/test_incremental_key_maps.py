"""Incremental key maps (issue 17): a change recomputes only the locks whose key maps it can
alter, a build reads only those locks' inputs, requests for one lock coalesce, and after any
sequence of changes the incremental maps equal a build of every lock."""

from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.access import services as access_services
from apps.core.actors import SYSTEM
from apps.devices import services as device_services
from apps.devices.models import UserDevice
from apps.keys import canonical, crypto
from apps.locks import protocol
from apps.locks import services as lock_services
from apps.locks.models import KeyMapBuild, Lock, SignedKeyMap
from apps.locks.services import key_maps as key_maps_module
from tests.access import test_incremental_equals_rebuild as random_access
from tests.factories import access as a
from tests.factories import directory as d
from tests.locks.conftest import Phone, settle

pytestmark = pytest.mark.django_db


def _campus(extra_units: int):
    """A tower whose Residents open the lobby, a pool its pass holders open, and `extra_units`
    units with a door each (their own residents): the locks a pool-pass change must not touch."""
    prop = d.property_create(display_name="Campus")
    residents = d.property_group(prop)
    pool_pass = d.group_create(prop, display_name="Pool pass", group_type="resident")
    tower = d.area_create(prop, display_name="Tower", area_type="resident")
    access_services.area_update(
        area=tower, access_list=[{"accessType": "group", "userGroupId": str(residents.pk)}], actor=SYSTEM
    )
    lobby = d.area_create(prop, display_name="Lobby", area_type="common", parent=tower)
    pool = d.area_create(prop, display_name="Pool", area_type="common")
    access_services.area_update(
        area=pool, access_list=[{"accessType": "group", "userGroupId": str(pool_pass.pk)}], actor=SYSTEM
    )
    a.lock_in(lobby, "Lobby door")
    pool_door = a.lock_in(pool, "Pool gate")
    for i in range(extra_units):
        unit = d.area_create(prop, display_name=f"Unit {i}", area_type="resident", parent=tower)
        a.lock_in(unit, f"Unit {i} door")
        tenant = d.user_create(display_name=f"Tenant {i}")
        d.member_add(unit.area_user_group, tenant)
        d.member_add(residents, tenant)
        Phone.provision(tenant)
    swimmer = d.user_create(display_name="Swimmer")
    d.member_add(residents, swimmer)
    Phone.provision(swimmer)
    settle()
    return prop, pool_pass, pool_door, swimmer


@contextmanager
def _builds():
    """The key-map builds run inside the block, and the SQL queries of their work."""
    first = KeyMapBuild.objects.order_by("-id").values_list("id", flat=True).first() or 0
    found: list = []
    with CaptureQueriesContext(connection) as queries:
        yield found
    found.extend(KeyMapBuild.objects.filter(pk__gt=first).order_by("id"))
    found.append(len(queries.captured_queries))


def _remove_and_add(pool_pass, swimmer) -> list:
    """The swimmer loses, then regains, the pool pass; each change processed and built."""
    runs = []
    for change in (access_services.membership_add, access_services.membership_remove):
        change(group=pool_pass, user=swimmer, actor=SYSTEM)
        a.process_events()
        with _builds() as found:
            for property_id in lock_services.key_maps_pending():
                lock_services.key_maps_build(property_id=property_id)
        *builds, queries = found
        runs.append(([(b.locks_checked, b.locks_signed) for b in builds], queries))
    settle()
    return runs


def test_a_membership_change_rebuilds_only_the_locks_that_name_the_group():
    prop, pool_pass, pool_door, swimmer = _campus(extra_units=12)
    before = dict(Lock.objects.filter(property=prop).values_list("id", "signed_key_map_version"))
    assert len(before) == 14

    runs = _remove_and_add(pool_pass, swimmer)

    # one lock computed and signed per change (the pool gate), out of 14
    assert [builds for builds, _ in runs] == [[(1, 1)], [(1, 1)]]
    after = dict(Lock.objects.filter(property=prop).values_list("id", "signed_key_map_version"))
    assert {lock_id for lock_id in after if after[lock_id] != before[lock_id]} == {pool_door.pk}
    gate = SignedKeyMap.objects.get(lock=pool_door, version=after[pool_door.pk])
    assert gate.payload["entries"] == []  # the pass is gone again: nobody opens the gate


def test_the_build_for_one_lock_reads_the_same_whatever_the_size_of_the_property():
    small = _remove_and_add(*_campus(extra_units=2)[1::2])
    large = _remove_and_add(*_campus(extra_units=20)[1::2])
    assert [builds for builds, _ in small] == [builds for builds, _ in large] == [[(1, 1)], [(1, 1)]]
    assert [queries for _, queries in small] == [queries for _, queries in large]


def test_requests_for_the_same_lock_coalesce_into_one_computation(monkeypatch):
    prop, pool_pass, pool_door, swimmer = _campus(extra_units=3)
    others = [d.user_create(display_name=f"Diver {i}") for i in range(4)]
    for person in others:
        Phone.provision(person)
        access_services.membership_add(group=pool_pass, user=person, actor=SYSTEM)
    a.process_events()  # eight requests, all naming the pool gate
    computed = []
    real = key_maps_module._Inputs.content

    def content(self, lock_id):
        computed.append(lock_id)
        return real(self, lock_id)

    monkeypatch.setattr(key_maps_module._Inputs, "content", content)
    with _builds() as found:
        for property_id in lock_services.key_maps_pending():
            lock_services.key_maps_build(property_id=property_id)
    *builds, _ = found
    assert [(b.locks_checked, b.locks_signed) for b in builds] == [(1, 1)]
    assert computed == [str(pool_door.pk)]
    assert (
        len(
            SignedKeyMap.objects.get(
                lock=pool_door, version=Lock.objects.get(pk=pool_door.pk).signed_key_map_version
            ).payload["entries"]
        )
        == 4
    )


def test_a_structural_change_rebuilds_the_locks_whose_lines_moved_and_a_key_rotation_all():
    prop, pool_pass, pool_door, swimmer = _campus(extra_units=3)
    schedule = access_services.schedule_create(
        prop=prop, display_name="Day", windows=[{"days": ["mon"], "start": "08:00", "stop": "18:00"}], actor=SYSTEM
    )
    pool = pool_door.area
    access_services.area_update(
        area=pool,
        access_list=[{"accessType": "group", "userGroupId": str(pool_pass.pk), "scheduleId": str(schedule.pk)}],
        actor=SYSTEM,
    )
    a.process_events()
    with _builds() as found:
        for property_id in lock_services.key_maps_pending():
            lock_services.key_maps_build(property_id=property_id)
    *builds, _ = found
    # only the pool gate's lines moved; no pass holder has a phone, so its map stays as it was
    assert [(b.locks_checked, b.locks_signed) for b in builds] == [(1, 0)]

    lock_services.key_maps_request(property_ids=[prop.pk], reason="test")
    build = lock_services.key_maps_build(property_id=prop.pk)
    assert (build.locks_checked, build.locks_signed) == (5, 0)


# --- incremental equals a build of every lock --------------------------------------------

device_op = st.one_of(
    st.tuples(st.just("phone"), st.integers(0, random_access.N_USERS - 1), st.just(0)),
    st.tuples(st.just("unphone"), st.integers(0, random_access.N_USERS - 1), st.just(0)),
)


def _apply(step, world) -> None:
    prop, areas, groups, users, locks, schedule = world
    kind, x, _ = step
    if kind == "phone":
        Phone.provision(users[x])
    elif kind == "unphone":
        device = UserDevice.objects.filter(user=users[x], deprovisioned_at__isnull=True).order_by("id").first()
        if device is not None:
            device_services.user_device_deprovision(device=device, actor=SYSTEM)
    else:
        random_access._apply(step, *world)


def _contents(prop) -> dict[str, str]:
    """{lockId: content digest} of every live lock, computed from scratch."""
    locks = list(Lock.objects.alive().filter(property=prop))
    inputs = key_maps_module._Inputs(prop, None)
    return {str(lock.pk): protocol.content_digest(inputs.content(str(lock.pk))) for lock in locks}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    area_types=st.lists(
        st.sampled_from(random_access.AREA_TYPES), min_size=random_access.N_AREAS, max_size=random_access.N_AREAS
    ),
    parents=st.lists(
        st.one_of(st.none(), st.integers(0, random_access.N_AREAS - 1)),
        min_size=random_access.N_AREAS,
        max_size=random_access.N_AREAS,
    ),
    steps=st.lists(st.one_of(random_access.op, device_op), min_size=1, max_size=20),
)
def test_incremental_key_maps_equal_a_build_of_every_lock(area_types, parents, steps):
    with transaction.atomic():
        world = random_access._world(area_types, parents)
        for user in world[3][:4]:  # most people have a phone: changes show in the maps
            Phone.provision(user)
        settle()
        for step in steps:
            _apply(step, world)
            settle()  # events, then incremental builds, as the workers run them
        prop = world[0]
        signed = {
            str(lock_id): digest
            for lock_id, digest in Lock.objects.alive().filter(property=prop).values_list("id", "signed_key_map_digest")
        }
        assert signed == _contents(prop)
        _assert_payloads_as_rebuilt(prop)
        build = lock_services.key_maps_build(property_id=prop.pk, reason="rebuild", every_lock=True)
        assert build.locks_signed == 0
        for part in lock_services.key_maps_partition(property_id=prop.pk, part_size=2):  # the workers' build-all
            assert lock_services.key_maps_build_part(property_id=prop.pk, lock_ids=part).locks_signed == 0
        transaction.set_rollback(True)


def _assert_payloads_as_rebuilt(prop) -> None:
    """Each lock's newest signed payload is, byte for byte, the payload a build of every lock
    from scratch makes, given the same version and times (which also fix the schedule intervals)."""
    inputs = key_maps_module._Inputs(prop, None)
    for lock in Lock.objects.alive().filter(property=prop, signed_key_map_version__gt=0):
        stored = SignedKeyMap.objects.get(lock=lock, version=lock.signed_key_map_version).payload
        rebuilt = protocol.key_map_payload(
            inputs.content(str(lock.pk)),
            version=stored["keyMapVersion"],
            issued_at=stored["issuedAt"],
            not_after=stored["notAfter"],
        )
        assert canonical.canonical(rebuilt) == canonical.canonical(stored)


def test_a_build_all_in_parts_signs_every_lock_once_as_the_whole_build_would(
    django_capture_on_commit_callbacks, eager_celery
):
    prop, pool_pass, pool_door, swimmer = _campus(extra_units=5)
    access_services.membership_add(group=pool_pass, user=swimmer, actor=SYSTEM)
    settle()
    before = dict(Lock.objects.filter(property=prop).values_list("id", "signed_key_map_version"))
    first = KeyMapBuild.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: each part runs as its task would
        parts = lock_services.key_maps_rebuild(property_id=prop.pk, part_size=3, reissue=True)
    assert [len(part) for part in parts] == [3, 3, 1]
    assert sorted(lock_id for part in parts for lock_id in part) == sorted(str(pk) for pk in before)
    builds = list(KeyMapBuild.objects.filter(pk__gt=first).order_by("id"))
    assert [(b.locks_checked, b.locks_signed) for b in builds] == [(3, 3), (3, 3), (1, 1)]
    after = dict(Lock.objects.filter(property=prop).values_list("id", "signed_key_map_version"))
    assert after == {lock_id: version + 1 for lock_id, version in before.items()}
    _assert_payloads_as_rebuilt(prop)
    # nothing changed since: a part without reissue signs nothing
    assert lock_services.key_maps_build_part(property_id=prop.pk, lock_ids=parts[0]).locks_signed == 0


def test_key_map_builds_and_integration_polls_have_queues_of_their_own(settings):
    from config.celery import app

    def queue(task: str) -> str:
        return app.amqp.router.route({}, task)["queue"].name

    assert queue("apps.locks.tasks.key_maps_build") == settings.KEYHOUSE_QUEUE_KEY_MAPS == "keymaps"
    assert queue("apps.locks.tasks.key_maps_build_part") == "keymaps"
    assert queue("apps.integrations.tasks.integration_account_poll") == "integrations"
    assert queue("apps.events.tasks.event_process") == "celery"


def test_phone_provisioning_asks_only_for_the_locks_that_name_the_person():
    prop, pool_pass, pool_door, swimmer = _campus(extra_units=5)
    access_services.membership_add(group=pool_pass, user=swimmer, actor=SYSTEM)
    settle()
    access = crypto.generate(crypto.ED25519)
    device_services.user_device_provision(
        user=swimmer,
        device_type="iOS",
        make_model="iPhone 15",
        display_name="second phone",
        access_public_key=access.public,
        sync_public_key=crypto.generate(crypto.ED25519).public,
        seal_public_key=crypto.generate(crypto.X25519).public,
        actor=SYSTEM,
    )
    a.process_events()
    with _builds() as found:
        for property_id in lock_services.key_maps_pending():
            lock_services.key_maps_build(property_id=property_id)
    *builds, _ = found
    # the lobby door (Residents) and the pool gate (the pass); not the five unit doors
    assert [(b.locks_checked, b.locks_signed) for b in builds] == [(2, 2)]
