"""AreaSerializer reads its plain fields directly (core.api.serializers.DirectFieldsMixin): the
rows it builds equal DRF's own, key for key and in the same order, for every kind of area."""

import json

import pytest
from django.utils import timezone
from rest_framework import serializers

from apps.areas.selectors import area_list
from apps.areas.serializers import AreaSerializer
from apps.core.actors import SYSTEM
from apps.core.models import ExternalRef
from apps.firmware import services as firmware_services
from apps.locks import services as lock_services
from tests.factories import directory as d
from tests.firmware.conftest import firmware_upload

pytestmark = pytest.mark.django_db


def test_direct_rows_equal_drf_rows_for_every_kind_of_area():
    prop = d.property_create()
    group = d.group_create(prop)
    building = d.area_create(prop, area_type="common", display_name="Building")
    floor = d.area_create(prop, parent=building, display_name="Floor 1")
    flat = d.area_create(
        prop,
        parent=floor,
        display_name="Flat 1a",
        access_list=[
            {"accessType": "group", "userGroupId": str(group.pk)},
            {"accessType": "area", "areaId": str(building.pk)},
        ],
    )
    office = d.area_create(prop, area_type="staff", display_name="Office ✓")
    lock = lock_services.lock_create(display_name="Door", prop=prop, actor=SYSTEM)
    lock_services.lock_install(lock=lock, area=flat, actor=SYSTEM)
    ExternalRef.objects.create(
        entity=flat, source="crm", external_id="F-1", sync_direction="both", last_sync_date=timezone.now()
    )
    ExternalRef.objects.create(entity=office, source="crm", external_id="O-1", sync_direction="both")
    firmware_services.firmware_assign(
        firmware_version=firmware_upload("1.0", b"one"), scope="area", area=floor, actor=SYSTEM
    )

    areas = list(area_list(property_id=prop.pk))
    page = AreaSerializer(areas, many=True)
    direct = page.data
    drf = [serializers.ModelSerializer.to_representation(page.child, area) for area in areas]
    assert json.dumps(direct) == json.dumps(drf)  # the same keys in the same order, the same values
    assert {a["displayName"]: a["private"]["requiredFirmwareVersion"] for a in direct} == {
        "Building": None,
        "Floor 1": "1.0",
        "Flat 1a": "1.0",
        "Office ✓": None,
    }
    one = AreaSerializer(areas[2])
    assert json.dumps(one.data) == json.dumps(serializers.ModelSerializer.to_representation(one, areas[2]))
