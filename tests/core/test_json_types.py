"""A JSON body gets the types its schema states: DRF would coerce `0` into "0" for a string
field (and "5" into 5, "yes" into true); Keyhouse refuses them, naming the field."""

import pytest

from apps.core.principal import Grant
from tests.factories import directory as d
from tests.factories.accounts import key_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def prop_and_client():
    prop = d.property_create(display_name="Harbour View")
    return prop, key_client(Grant("owner", property_id=prop.pk))


def test_a_number_for_a_string_is_refused_naming_the_field(prop_and_client):
    prop, client = prop_and_client
    response = client.post(
        f"/api/v1/properties/{prop.pk}/groups", {"groupType": "resident", "displayName": 0}, format="json"
    )
    assert d.refused(response, 400)["data"]["fields"] == {"displayName": ["Must be a string."]}


def test_nested_fields_are_held_to_their_types_too(prop_and_client):
    prop, client = prop_and_client
    address = {**d.address(), "postalCode": 22201}
    response = client.put(
        f"/api/v1/properties/{prop.pk}",
        {"displayName": "Harbour View", "address": address, "accessManagerIds": []},
        format="json",
    )
    assert d.refused(response, 400)["data"]["fields"] == {"address.postalCode": ["Must be a string."]}


def test_the_right_types_still_pass(prop_and_client):
    prop, client = prop_and_client
    response = client.post(
        f"/api/v1/properties/{prop.pk}/groups", {"groupType": "resident", "displayName": "Night staff"}, format="json"
    )
    assert d.ok(response)["displayName"] == "Night staff"
