"""A property manager in a real browser: signs in to the staff admin with their owner grant
(no staff flag) and the property list shows their property only (docs/ADMIN.md)."""

import pytest

from apps.access.services import property_create
from apps.accounts.models import PermissionGrant
from apps.core.actors import SYSTEM
from tests.factories.accounts import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "browser-manager@example.test"
PASSWORD = "browser-manager-password-9q2"
ADDRESS = {"line1": "1 Harbour Street", "city": "Portsmouth", "country": "GB", "postalCode": "PO1 1AA"}


def test_manager_signs_in_and_sees_only_their_property(page, live_server):
    alpha = property_create(display_name="Alphahaus Court", address=ADDRESS, actor=SYSTEM)
    property_create(display_name="Bravoburg Towers", address=ADDRESS, actor=SYSTEM)
    manager = UserFactory(email=EMAIL, password=PASSWORD, display_name="Alma Manager")
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=alpha.pk)

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state("load")
    assert "/admin/login/" not in page.url

    page.goto(f"{live_server.url}/admin/properties/property/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "Alphahaus Court" in rows.first.inner_text()
    assert "Bravoburg" not in page.content()
    page.screenshot(path="/tmp/i16b_manager_properties.png", full_page=False)
