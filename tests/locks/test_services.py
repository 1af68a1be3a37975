"""Locks as the access model sees them: provisioned into a property, installed into an area."""

import pytest

from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.models import Event
from apps.locks import services
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


def test_install_moves_a_lock_between_areas_of_its_property_with_one_event_each():
    prop = d.property_create()
    lobby, gym = d.area_create(prop, area_type="common"), d.area_create(prop, area_type="common")
    lock = services.lock_create(display_name="Front door", prop=prop, actor=SYSTEM)

    services.lock_install(lock=lock, area=lobby, actor=SYSTEM)
    services.lock_install(lock=lock, area=lobby, actor=SYSTEM)  # already there: nothing happens
    services.lock_install(lock=lock, area=gym, actor=SYSTEM)

    lock.refresh_from_db()
    assert lock.area_id == gym.pk and lock.install_date is not None
    installed = Event.objects.filter(event_name="lock.installed", lock_id=lock.pk).order_by("id")
    assert [e.area_id for e in installed] == [lobby.pk, gym.pk]
    assert installed.last().payload == {"previousAreaId": str(lobby.pk)}


def test_a_lock_cannot_be_installed_in_another_propertys_area():
    a, b = d.property_create(), d.property_create()
    lock = services.lock_create(display_name="Door", prop=a, actor=SYSTEM)

    with pytest.raises(ApplicationError, match="areaId: the area belongs to another property"):
        services.lock_install(lock=lock, area=d.area_create(b), actor=SYSTEM)

    lock.refresh_from_db()
    assert lock.area_id is None


def test_uninstall_modes_and_an_installed_lock_blocks_its_area_delete():
    from apps.access.services import area_delete

    prop = d.property_create()
    area = d.area_create(prop)
    lock = services.lock_create(display_name="Door", prop=prop, actor=SYSTEM)
    services.lock_install(lock=lock, area=area, actor=SYSTEM)

    with pytest.raises(ConflictError) as refused:
        area_delete(area=area, actor=SYSTEM)
    assert refused.value.extra == {"blockedBy": {"lockIds": [str(lock.pk)]}}

    services.lock_uninstall(lock=lock, actor=SYSTEM, mode="area")
    lock.refresh_from_db()
    assert (lock.area_id, lock.property_id) == (None, prop.pk)
    services.lock_uninstall(lock=lock, actor=SYSTEM, mode="property")
    lock.refresh_from_db()
    assert lock.property_id is None
    with pytest.raises(ApplicationError, match="uninstallMode"):
        services.lock_uninstall(lock=lock, actor=SYSTEM, mode="garage")
    area_delete(area=area, actor=SYSTEM)  # nothing installed any more
