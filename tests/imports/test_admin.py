"""Staff admin for imports: upload, the diff as tables, Apply only without errors (or with
"valid rows only"), history with who ran it, and the Export action on list pages."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.access.models import UserGroup
from apps.accounts.models import PermissionGrant, User
from apps.imports.models import ImportRun, ImportRunStatus
from tests.factories import directory as d
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

UPLOAD = "/admin/imports/importrun/upload/"


@pytest.fixture
def prop():
    prop = d.property_create(display_name="Harbour House")
    d.group_create(prop, display_name="Gym")
    return prop


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def post_file(client, prop, data: bytes, kind="users"):
    form = {"property": prop.pk, "kind": kind, "mode": "merge", "file": SimpleUploadedFile("people.csv", data)}
    return client.post(UPLOAD, form)


def test_upload_shows_the_diff_and_apply_runs_it(staff_client, prop, commits):
    bo = d.user_create(email="bo@example.com", display_name="Bo")
    d.member_add(d.property_group(prop), bo)
    with commits():
        response = post_file(
            staff_client, prop, b"email,displayName,groups\r\nana@example.com,Ana,Gym\r\nbo@example.com,Bob,\r\n"
        )
    assert response.status_code == 302
    page = staff_client.get(response["Location"]).content.decode()
    assert "1 to create, 1 to update, 0 unchanged, 0 to remove, 0 errors" in page
    assert "<td>displayName</td><td>Bo</td><td>Bob</td>" in page
    assert 'name="apply" value="Apply"' in page
    assert not User.objects.filter(email="ana@example.com").exists()
    with commits():
        staff_client.post(response["Location"], {"apply": "1"})
    run = ImportRun.objects.get()
    assert run.status == ImportRunStatus.APPLIED
    assert User.objects.get(email="bo@example.com").display_name == "Bob"
    history = staff_client.get("/admin/imports/importrun/").content.decode()
    assert "people.csv" in history and history.count("Staff Member") == 2  # uploaded by, applied by


def test_errors_hide_apply_until_valid_rows_only_is_chosen(staff_client, prop, commits):
    with commits():
        response = post_file(staff_client, prop, b"email,displayName\r\nnope,Ana\r\ncy@example.com,Cy\r\n")
    page = staff_client.get(response["Location"]).content.decode()
    assert 'value="Apply"' not in page and "Apply the valid rows only" in page
    assert "<td>2</td><td>email</td><td>nope</td><td>not an email address</td>" in page
    with commits():
        page = staff_client.post(response["Location"], {"apply": "1"}, follow=True).content.decode()
    assert "apply the valid rows only" in page
    assert not User.objects.filter(email="cy@example.com").exists()
    with commits():
        staff_client.post(response["Location"], {"apply": "1", "valid_rows_only": "1"})
    assert User.objects.filter(email="cy@example.com").exists()


def test_bad_file_is_listed_as_an_error(staff_client, prop, commits):
    with commits():
        response = post_file(staff_client, prop, b"\x89PNG\r\n\x1a\n\x00\x00")
    page = staff_client.get(response["Location"]).content.decode()
    assert "This is a binary file, neither CSV nor XLSX." in page and 'value="Apply"' not in page


def test_export_action_on_the_areas_list(staff_client, prop):
    tower = d.area_create(prop, display_name="Tower A", area_type="common")
    d.area_create(prop, display_name="3B", parent=tower)
    response = staff_client.post("/admin/areas/area/", {"action": "export_areas", "_selected_action": [str(tower.pk)]})
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode("utf-8-sig") == "name,parent,type\r\nTower A,,common\r\n"
    other = d.area_create(d.property_create(), display_name="Elsewhere")
    page = staff_client.post(
        "/admin/areas/area/",
        {"action": "export_areas", "_selected_action": [str(tower.pk), str(other.pk)]},
        follow=True,
    ).content.decode()
    assert "Choose rows of one property" in page


def test_templates_and_xlsx_export(staff_client, prop):
    page = staff_client.get(UPLOAD).content.decode()
    assert "/admin/imports/importrun/template/grants/" in page
    response = staff_client.get("/admin/imports/importrun/template/grants/")
    header = b"".join(response.streaming_content).decode("utf-8-sig")
    assert header == "externalId,email,lock,area,accessLevel,validFrom,validUntil,timeZone\r\n"
    assert staff_client.get("/admin/imports/importrun/template/keys/").status_code == 404
    gym = UserGroup.objects.get(display_name="Gym")
    response = staff_client.post(
        "/admin/access/usergroup/", {"action": "export_groups_xlsx", "_selected_action": [gym.pk]}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["name", "type"], ["Gym", "resident"]]


def manager(prop, permission: str):
    person = UserFactory(email=f"{permission}@example.test", display_name=f"{permission.title()} Manager")
    PermissionGrant.objects.create(user=person, permission=permission, property_id=prop.pk)
    return person


AREAS = b"name,parent,type\r\nTower B,,common\r\n"


def test_only_owners_of_the_property_import_areas(client, prop, commits):
    """As the API (createArea is the owner's): an access manager may import people but not
    areas, neither uploading an areas file nor applying one an owner uploaded."""
    client.force_login(manager(prop, "manage-access"))
    with commits():
        page = post_file(client, prop, AREAS, kind="areas")
    assert page.status_code == 200
    assert "needs the owner permission for this property" in page.content.decode()
    assert not ImportRun.objects.exists()
    with commits():
        assert post_file(client, prop, b"email,displayName\r\nana@example.com,Ana\r\n").status_code == 302

    client.force_login(manager(prop, "owner"))
    with commits():
        response = post_file(client, prop, AREAS, kind="areas")
    assert response.status_code == 302
    run = ImportRun.objects.get(kind="areas")
    assert run.status == ImportRunStatus.VALIDATED

    client.force_login(User.objects.get(email="manage-access@example.test"))
    with commits():
        page = client.post(response["Location"], {"apply": "1"}, follow=True).content.decode()
    assert "needs the owner permission for this property" in page
    run.refresh_from_db()
    assert run.status == ImportRunStatus.VALIDATED and not prop.areas.filter(display_name="Tower B").exists()

    client.force_login(User.objects.get(email="owner@example.test"))
    with commits():
        client.post(response["Location"], {"apply": "1"})
    run.refresh_from_db()
    assert run.status == ImportRunStatus.APPLIED and prop.areas.filter(display_name="Tower B").exists()


def test_the_diff_tables_are_paged(staff_client, prop, commits, monkeypatch):
    monkeypatch.setattr("apps.imports.admin.ADMIN_PAGE", 2)
    lines = "".join(f"p{i}@example.com,Person {i}\r\n" for i in range(5))
    with commits():
        response = post_file(staff_client, prop, b"email,displayName\r\n" + lines.encode())
    page = staff_client.get(response["Location"]).content.decode()
    assert "To create (5)" in page and "5 to create, 0 to update" in page
    assert "p1@example.com" in page and "p2@example.com" not in page
    assert "page 1 of 3" in page and "?create_page=2" in page
    last = staff_client.get(response["Location"] + "?create_page=3").content.decode()
    assert "p4@example.com" in last and "p1@example.com" not in last and "page 3 of 3" in last
