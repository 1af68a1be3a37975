"""The billing address on a person's admin page is a form with fields, not a JSON box
(issue 16): all empty is no address; a partial one names each missing field."""

import pytest
from django.urls import reverse

from apps.accounts.models import PermissionGrant
from tests.factories import directory as d
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(email="root@example.test", is_staff=True, is_superuser=True))
    return client


def _post(person, **billing):
    data = {"display_name": person.display_name, "first_name": "", "last_name": "", "phone_number": ""}
    data |= {"is_active": "on"}
    return data | billing


def test_billing_address_fields_save_and_read_back(admin_client):
    person = d.user_create(email="payer@example.test", display_name="Pat Payer")
    url = reverse("admin:accounts_user_change", args=[person.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="billing_line1"' in page and 'name="billing_address"' not in page and "null" not in page
    response = admin_client.post(
        url,
        _post(
            person,
            billing_line1="1 Harbour Street",
            billing_city="Portsmouth",
            billing_postal_code="PO1 1AA",
            billing_country="GB",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert person.billing_address == {
        "line1": "1 Harbour Street",
        "city": "Portsmouth",
        "postalCode": "PO1 1AA",
        "country": "GB",
    }
    assert 'value="Portsmouth"' in admin_client.get(url).content.decode()
    admin_client.post(url, _post(person))
    person.refresh_from_db()
    assert person.billing_address is None


def test_a_partial_billing_address_names_each_missing_field(admin_client):
    person = d.user_create(email="half@example.test", display_name="Hal Half")
    url = reverse("admin:accounts_user_change", args=[person.pk])
    response = admin_client.post(url, _post(person, billing_city="Portsmouth"))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert set(form.errors) == {"billing_line1", "billing_postal_code", "billing_country"}
    assert form.errors["billing_line1"] == ["Required for a billing address."]
    assert "missing [" not in response.content.decode()


def test_a_manager_reads_the_address_in_words(client):
    prop = d.property_create(display_name="Alphahaus Court")
    manager = UserFactory(email="m@example.test")
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=prop.pk)
    person = d.user_create(email="res@example.test", display_name="Ria Resident")
    person.billing_address = {"line1": "2 Quay", "city": "Cowes", "postalCode": "PO31", "country": "GB"}
    person.save()
    d.member_add(d.property_group(prop), person)
    client.force_login(manager)
    page = client.get(reverse("admin:accounts_user_change", args=[person.pk]))
    assert page.status_code == 200
    assert "2 Quay, Cowes, PO31, GB" in page.content.decode()
