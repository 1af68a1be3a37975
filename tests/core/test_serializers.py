import datetime as dt

import pytest
from rest_framework import serializers

from apps.core.api.serializers import InputSerializer, TimestampField, camel
from apps.core.timestamps import format_timestamp


def test_timestamps_are_emitted_in_utc_with_milliseconds():
    value = dt.datetime(2022, 7, 14, 19, 25, 3, 456789, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_timestamp(value) == "2022-07-14T17:25:03.456Z"
    assert format_timestamp(dt.datetime(2022, 7, 14, 17, 25, 3, tzinfo=dt.UTC)) == "2022-07-14T17:25:03.000Z"


@pytest.mark.parametrize("text", ["2022-07-14T17:25:03Z", "2022-07-14T17:25:03.000Z", "2022-07-14T19:25:03+02:00"])
def test_timestamps_are_accepted_with_or_without_milliseconds(text):
    assert TimestampField().to_internal_value(text) == dt.datetime(2022, 7, 14, 17, 25, 3, tzinfo=dt.UTC)


def test_camel_case_names():
    assert camel("display_name") == "displayName"
    assert camel("last_modified_at") == "lastModifiedAt"
    assert camel("id") == "id"


class _Body(InputSerializer):
    displayName = serializers.CharField()
    count = serializers.IntegerField()


def test_unknown_fields_are_named_together_with_other_errors():
    body = _Body(data={"displayName": "x", "count": "many", "colour": "red"})
    assert not body.is_valid()
    assert set(body.errors) == {"count", "colour"}
    assert body.errors["colour"] == ["Unknown field."]


@pytest.mark.django_db
def test_model_serializer_fields_are_built_once_and_each_instance_binds_its_own(monkeypatch):
    """CamelModelSerializer builds a class's fields once and hands each instance copies: every
    instance binds its own field objects (nested serializers deep-copied), and the output is
    what building the fields afresh gives."""
    from apps.areas.serializers import AreaSerializer
    from apps.core.api.serializers import CamelModelSerializer
    from tests.factories import directory as d

    prop = d.property_create()
    building = d.area_create(
        prop, access_list=[{"accessType": "group", "userGroupId": str(d.property_group(prop, "resident").pk)}]
    )
    unit = d.area_create(prop, parent=building)
    first, second = AreaSerializer(building), AreaSerializer(unit)
    for name in first.fields:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    assert first.fields["accessList"].child is not second.fields["accessList"].child
    cached = [AreaSerializer(area).data for area in (building, unit)]
    monkeypatch.setattr(CamelModelSerializer, "get_fields", CamelModelSerializer._camel_fields)
    assert [AreaSerializer(area).data for area in (building, unit)] == cached
    assert cached[0]["accessList"] and cached[1]["parentAreaId"] == str(building.pk)
