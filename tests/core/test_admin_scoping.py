"""A property manager in the staff admin sees and changes only the properties their owner /
manage-access grants name (docs/ADMIN.md): the crawl signs in as the manager of Alpha and asks
for every admin page, Bravo's object pages, autocomplete with Bravo's names, and posts to
Bravo's change and delete pages. Nothing of Bravo shows and nothing of Bravo changes."""

from io import StringIO

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.access.models import UserGroup
from apps.access.services import area_create, property_create
from apps.accounts.models import PermissionGrant
from apps.areas.models import Area
from apps.core.actors import SYSTEM
from apps.properties import demo
from apps.properties.models import Property
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = {"line1": "1 Harbour Street", "city": "Portsmouth", "country": "GB", "postalCode": "PO1 1AA"}


@pytest.fixture
def world():
    alpha = property_create(display_name="Alphahaus Court", address=ADDRESS, actor=SYSTEM)
    bravo = property_create(display_name="Bravoburg Towers", address=ADDRESS, actor=SYSTEM)
    area_create(prop=alpha, display_name="Alphahaus Lobby", area_type="common", actor=SYSTEM)
    area_create(prop=bravo, display_name="Bravoburg Lobby", area_type="common", actor=SYSTEM)
    manager = UserFactory(email="manager@example.test", display_name="Alma Manager")
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=alpha.pk)
    return alpha, bravo, manager


def bravo_objects(bravo):
    """(model, pk, label) of every admin-registered row that belongs to Bravo."""
    rows = [(Property, bravo.pk, bravo.display_name)]
    rows += [(Area, a.pk, a.display_name) for a in Area.objects.filter(property=bravo)]
    rows += [(UserGroup, g.pk, g.display_name) for g in UserGroup.objects.filter(property=bravo)]
    return rows


def assert_no_bravo(response, bravo, url):
    html = response.content.decode(errors="replace")
    assert "Bravoburg" not in html, url
    for _, pk, _ in bravo_objects(bravo):
        # Django's "… with ID “x” doesn’t exist" repeats the id the URL asked for: not a leak.
        assert str(pk) not in html.replace(f"with ID “{pk}” doesn’t exist", ""), url


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_manager_can_sign_in_and_sees_only_their_property(client, world):
    alpha, bravo, manager = world
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "manager@example.test", "password": "correct horse battery"},
    )
    assert response.status_code == 302, response.content[:400]
    listing = client.get("/admin/properties/property/")
    assert listing.status_code == 200
    assert "Alphahaus Court" in listing.content.decode()
    assert_no_bravo(listing, bravo, "changelist")


def test_user_without_grants_or_staff_cannot_sign_in(client, world):
    UserFactory(email="nobody@example.test")
    response = client.post("/admin/login/", {"username": "nobody@example.test", "password": "correct horse battery"})
    assert response.status_code == 200  # the form again, with the error
    assert client.get("/admin/").status_code == 302


def test_crawl_shows_nothing_of_another_property(client, world):
    alpha, bravo, manager = world
    client.force_login(manager)
    seen_alpha = False
    for model, model_admin in admin.site._registry.items():
        url = admin_url(model, "changelist")
        response = client.get(url)
        assert response.status_code in (200, 302, 403), url
        assert_no_bravo(response, bravo, url)
        seen_alpha |= "Alphahaus" in response.content.decode()
        for field in model_admin.autocomplete_fields:
            query = {
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": field,
                "term": "Bravoburg",
            }
            response = client.get("/admin/autocomplete/", query)
            assert_no_bravo(response, bravo, f"autocomplete {url} {field}")
    assert seen_alpha
    assert_no_bravo(client.get("/admin/"), bravo, "index")
    for model, pk, _ in bravo_objects(bravo):
        for view in ("change", "delete", "history"):
            url = admin_url(model, view, pk)
            response = client.get(url, follow=True)
            assert_no_bravo(response, bravo, url)


def test_crawl_writes_nothing_to_another_property(client, world):
    alpha, bravo, manager = world
    client.force_login(manager)
    before = {(m, pk): label for m, pk, label in bravo_objects(bravo)}
    for model, pk, _ in bravo_objects(bravo):
        client.post(admin_url(model, "change", pk), {"display_name": "Hijacked"})
        client.post(admin_url(model, "delete", pk), {"post": "yes"})
        client.post(
            admin_url(model, "changelist"), {"action": "delete_selected", "_selected_action": [pk], "post": "yes"}
        )
    for (model, pk), label in before.items():
        row = model._base_manager.get(pk=pk)
        assert row.display_name == label
        assert getattr(row, "deleted_at", None) is None


def test_manager_sees_and_opens_their_own_objects(client, world):
    alpha, bravo, manager = world
    client.force_login(manager)
    assert client.get(admin_url(Property, "change", alpha.pk)).status_code == 200
    assert client.get(admin_url(Property, "add")).status_code == 403  # a new one would be outside the grant
    lobby = Area.objects.get(property=alpha, display_name="Alphahaus Lobby")
    page = client.get(admin_url(Area, "change", lobby.pk))
    assert page.status_code == 200 and "Alphahaus Lobby" in page.content.decode()


def test_custom_pages_show_nothing_of_another_property(client, world):
    alpha, bravo, manager = world
    client.force_login(manager)
    explain = client.get(f"/admin/access/accessgrant/explain/?property={bravo.pk}")
    assert explain.status_code == 200
    assert_no_bravo(explain, bravo, "explain")
    assert "Alphahaus Court" in client.get("/admin/access/accessgrant/explain/").content.decode()
    upload = client.get("/admin/imports/importrun/upload/")
    assert upload.status_code == 200
    assert "Alphahaus Court" in upload.content.decode()
    assert_no_bravo(upload, bravo, "upload")
    lock_table = client.get(f"/admin/firmware/firmwareversion/locks/?property={bravo.pk}")
    assert lock_table.status_code == 403
    assert_no_bravo(lock_table, bravo, "lock table")


def test_person_and_door_pages_of_another_property_answer_404(client, world):
    from apps.access.services import membership_add
    from tests.factories.access import lock_in

    alpha, bravo, manager = world
    bravo_lobby = Area.objects.get(property=bravo)
    bravo_door = lock_in(bravo_lobby, "Bravoburg door")
    bravo_person = UserFactory(email="bravo-person@example.test", display_name="Bravoburg Resident")
    residents = UserGroup.objects.get(property=bravo, display_name="Residents")
    membership_add(group=residents, user=bravo_person, actor=SYSTEM)
    client.force_login(manager)
    for url in (
        reverse("admin:locks_lock_who", args=[bravo_door.pk]),
        reverse("admin:accounts_user_person", args=[bravo_person.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Bravoburg" not in response.content.decode(), url
    # a group of another property cannot be given through the person page of one's own person
    alma = UserFactory(email="alma-resident@example.test", display_name="Alma Resident")
    membership_add(group=UserGroup.objects.get(property=alpha, display_name="Residents"), user=alma, actor=SYSTEM)
    refused = client.post(
        reverse("admin:accounts_user_person", args=[alma.pk]), {"membership": "add", "group": residents.pk}
    )
    assert refused.status_code == 403
    assert not residents.memberships.filter(user=alma).exists()
    mine = client.get(reverse("admin:accounts_user_person", args=[alma.pk])).content.decode()
    assert "Alphahaus Court" in mine and "Bravoburg" not in mine
    # the audit log asked about Bravo's objects, and the dashboard's attention list
    events = reverse("admin:events_event_changelist")
    for query in (
        {"property": bravo.pk},
        {"object": bravo_door.pk},
        {"object": bravo_person.pk},
        {"object": bravo.pk},
        {"actor": "system"},
    ):
        html = client.get(events, query, follow=True).content.decode()
        # the search form keeps the asked filter value as a hidden input: the manager's own URL
        asked = str(next(iter(query.values())))
        html = html.replace(f'value="{asked}"', "").replace(f"={asked}", "")
        assert "Bravoburg" not in html, query
        assert all(str(pk) not in html for _, pk, _ in bravo_objects(bravo)), query
        assert str(bravo_door.pk) not in html and str(bravo_person.pk) not in html, query
    dashboard = client.get("/admin/").content.decode()
    assert "Bravoburg" not in dashboard


def test_the_demo_property_manager_signs_in_to_the_admin(client):
    out = StringIO()
    demo.seed_demo(out)
    password = out.getvalue().split("dana.whitfield@example.com / ")[1].split()[0]
    signed_in = client.post("/admin/login/", {"username": "dana.whitfield@example.com", "password": password})
    assert signed_in.status_code == 302
    listing = client.get("/admin/properties/property/").content.decode()
    assert demo.DEMO_PROPERTY_NAME in listing


def test_a_property_column_shows_only_to_who_manages_more_than_one(client, world):
    """Every row of a one-property manager's list would name the same property: no column then."""
    alpha, bravo, manager = world
    client.force_login(manager)
    header = '<th scope="col" class="sortable column-property'
    assert header not in client.get("/admin/areas/area/").content.decode()
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=bravo.pk)
    client.force_login(manager)  # the grants are read once per request's user
    html = client.get("/admin/areas/area/").content.decode()
    assert header in html
    assert "Alphahaus Court" in html and "Bravoburg Towers" in html
