"""The imports API: upload (multipart), status and diff, apply, cancel, 413, exports, scoping."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import User
from apps.core.principal import Grant
from apps.imports.models import ImportRun
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

CSV = b"email,displayName,groups\r\nana@example.com,Ana,Gym\r\nbo@example.com,Bo,\r\n"


@pytest.fixture
def prop():
    prop = d.property_create(display_name="Harbour House")
    d.group_create(prop, display_name="Gym")
    return prop


@pytest.fixture
def manager(prop, client_for):
    client, _ = client_for(Grant("manage-access", property_id=prop.pk))
    return client


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def operations(client, url: str, **params) -> list[dict]:
    return d.ok(client.get(f"{url}/operations", params))["operations"]


def upload(client, prop, data: bytes = CSV, kind: str = "users", name: str = "people.csv", **extra):
    form = {"file": SimpleUploadedFile(name, data), "kind": kind, **extra}
    return client.post(f"/api/v1/properties/{prop.pk}/imports", form, format="multipart")


def test_upload_diff_apply_and_history(prop, manager, commits):
    with commits():
        run = d.ok(upload(manager, prop))
    assert run["status"] == "uploaded"
    url = f"/api/v1/properties/{prop.pk}/imports/{run['importId']}"
    run = d.ok(manager.get(url))
    assert run["status"] == "validated"
    assert (run["rowsDone"], run["rowsTotal"]) == (2, 2)
    assert "operations" not in run  # the diff is paged (listImportOperations)
    assert [(op["op"], op["key"]) for op in operations(manager, url)] == [
        ("create", "ana@example.com"),
        ("create", "bo@example.com"),
    ]
    assert not User.objects.filter(email="ana@example.com").exists()
    with commits():
        d.ok(manager.post(f"{url}/apply", {}, format="json"))
    run = d.ok(manager.get(url))
    assert run["status"] == "applied" and run["appliedBy"].startswith("apiKey:")
    assert (run["rowsDone"], run["rowsTotal"]) == (2, 2)
    assert User.objects.get(email="ana@example.com").user_groups.filter(display_name="Gym").exists()
    history = d.ok(manager.get(f"/api/v1/properties/{prop.pk}/imports"))
    assert [r["importId"] for r in history["imports"]] == [run["importId"]]
    d.refused(manager.post(f"{url}/cancel"), 409)


def test_row_errors_block_apply_until_valid_rows_only(prop, manager, commits):
    with commits():
        run = d.ok(upload(manager, prop, b"email,displayName\r\nnot-an-email,Ana\r\nbo@example.com,Bo\r\n"))
    url = f"/api/v1/properties/{prop.pk}/imports/{run['importId']}"
    run = d.ok(manager.get(url))
    assert run["errors"] == [{"row": 2, "column": "email", "value": "not-an-email", "reason": "not an email address"}]
    body = d.refused(manager.post(f"{url}/apply", {}, format="json"), 400)
    assert "validRowsOnly" in body["error"]
    with commits():
        d.ok(manager.post(f"{url}/apply", {"validRowsOnly": True}, format="json"))
    assert User.objects.filter(email="bo@example.com").exists()


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "The file is empty."), (b"email,displayName\r\n", "The file has a header but no rows.")],
)
def test_bad_files_are_reported_not_applied(prop, manager, commits, data, reason):
    with commits():
        run = d.ok(upload(manager, prop, data))
    url = f"/api/v1/properties/{prop.pk}/imports/{run['importId']}"
    run = d.ok(manager.get(url))
    assert run["errors"][0]["reason"] == reason and operations(manager, url) == []


def test_oversize_is_413(prop, manager, settings):
    settings.KEYHOUSE_IMPORT_MAX_BYTES = 2048
    settings.KEYHOUSE_IMPORT_MAX_BODY_BYTES = 1024 * 1024
    d.refused(upload(manager, prop, CSV + b"x" * 4096), 413)
    settings.KEYHOUSE_IMPORT_MAX_BODY_BYTES = 4096
    d.refused(upload(manager, prop, CSV + b"x" * 8192), 413)
    assert ImportRun.objects.count() == 0


def test_another_propertys_runs_are_404_and_areas_need_owner(prop, manager, client_for, commits):
    with commits():
        run = d.ok(upload(manager, prop))
    other = d.property_create()
    stranger, _ = client_for(Grant("manage-access", property_id=other.pk))
    d.refused(stranger.get(f"/api/v1/properties/{prop.pk}/imports/{run['importId']}"), 404)
    d.refused(stranger.get(f"/api/v1/properties/{other.pk}/imports/{run['importId']}"), 404)
    d.refused(upload(manager, prop, b"name,type\r\nLobby,common\r\n", kind="areas"), 403)
    support, _ = client_for(Grant("support", property_id=prop.pk))
    d.refused(upload(support, prop), 403)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_streams_the_rows(prop, manager, fmt):
    d.member_add(d.group_create(prop, display_name="Pool"), d.user_create(email="ana@example.com", display_name="=Ana"))
    response = manager.get(f"/api/v1/properties/{prop.pk}/exports/users", {"fileType": fmt})
    assert response.status_code == 200 and response.streaming
    data = b"".join(response.streaming_content)
    if fmt == "csv":
        text = data.decode("utf-8-sig")
        assert text.splitlines()[1] == ",ana@example.com,'=Ana,,,,,Pool"
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        assert [c.value for c in sheet[2]][1:3] == ["ana@example.com", "'=Ana"]
    template = manager.get(f"/api/v1/properties/{prop.pk}/exports/groups", {"template": "true"})
    assert b"".join(template.streaming_content).decode("utf-8-sig") == "name,type\r\n"
    d.refused(manager.get(f"/api/v1/properties/{prop.pk}/exports/keys"), 400)


def test_a_manager_changes_only_accounts_within_reach(prop, manager, commits):
    """The run keeps the caller; check_may_administer decides per row, as updateUser would."""
    local = d.user_create(email="local@example.com", display_name="Local")
    d.member_add(d.property_group(prop), local)
    wider = d.user_create(email="wider@example.com", display_name="Wider")
    d.member_add(d.property_group(prop), wider)
    d.member_add(d.property_group(d.property_create()), wider)
    data = b"email,displayName\r\nlocal@example.com,Local Renamed\r\nwider@example.com,Wider Renamed\r\n"
    with commits():
        run = d.ok(upload(manager, prop, data))
    url = f"/api/v1/properties/{prop.pk}/imports/{run['importId']}"
    run = d.ok(manager.get(url))
    assert [(op["op"], op["key"]) for op in operations(manager, url)] == [("update", "local@example.com")]
    assert [(e["row"], e["column"]) for e in run["errors"]] == [(3, "email")]
    assert "beyond your permissions" in run["errors"][0]["reason"]
    with commits():
        d.ok(manager.post(f"{url}/apply", {"validRowsOnly": True}, format="json"))
    assert User.objects.get(email="local@example.com").display_name == "Local Renamed"
    assert User.objects.get(email="wider@example.com").display_name == "Wider"


def test_a_manager_imports_grants(prop, manager, commits):
    """check_may_grant sees the kept caller as the manager it is (its grants' property ids)."""
    from apps.access.models import AccessGrant
    from tests.factories.access import lock_in

    ana = d.user_create(email="ana@example.com")
    d.member_add(d.property_group(prop), ana)
    lock_in(d.area_create(prop, display_name="Lobby", area_type="common"), "Front door")
    data = b"email,lock,accessLevel\r\nana@example.com,Front door,ADMIN\r\n"
    with commits():
        run = d.ok(upload(manager, prop, data, kind="grants"))
    url = f"/api/v1/properties/{prop.pk}/imports/{run['importId']}"
    assert d.ok(manager.get(url))["errors"] == []
    with commits():
        d.ok(manager.post(f"{url}/apply", {}, format="json"))
    assert AccessGrant.objects.get(user=ana).access_level == "ADMIN"


def test_sync_removals_show_without_a_row(prop, manager, commits):
    bo = d.user_create(email="bo@example.com", display_name="Bo")
    d.member_add(d.property_group(prop), bo)
    with commits():
        run = d.ok(upload(manager, prop, b"email,displayName\r\nana@example.com,Ana\r\n", mode="sync"))
    url = f"/api/v1/properties/{prop.pk}/imports/{run['importId']}"
    run = d.ok(manager.get(url))
    assert run["mode"] == "sync"
    assert operations(manager, url)[-1] == {"op": "remove", "key": "bo@example.com", "id": str(bo.pk)}
    assert operations(manager, url, op="remove") == [{"op": "remove", "key": "bo@example.com", "id": str(bo.pk)}]
    assert run["summary"] == {"create": 1, "update": 0, "unchanged": 0, "remove": 1, "errors": 0}


def test_the_diff_is_paged_in_plan_order_and_filtered_by_kind(prop, manager, client_for, commits):
    d.member_add(d.property_group(prop), d.user_create(email="p03@example.com", display_name="Person 3"))
    lines = "".join(f"p{i:02d}@example.com,Person {i}\r\n" for i in range(7))
    with commits():
        run = d.ok(upload(manager, prop, b"email,displayName\r\n" + lines.encode()))
    url = f"/api/v1/properties/{prop.pk}/imports/{run['importId']}"
    pages, token = [], None
    while True:
        data = d.ok(manager.get(f"{url}/operations", {"pageSize": 3, **({"pageToken": token} if token else {})}))
        pages.append([op["key"] for op in data["operations"]])
        token = data["pageToken"]
        if not token:
            break
    assert pages == [
        ["p00@example.com", "p01@example.com", "p02@example.com"],
        ["p03@example.com", "p04@example.com", "p05@example.com"],
        ["p06@example.com"],
    ]
    assert [op["key"] for op in operations(manager, url, op="unchanged")] == ["p03@example.com"]
    assert d.refused(manager.get(f"{url}/operations", {"op": "delete"}), 400)["error"]
    stranger, _ = client_for(Grant("manage-access", property_id=d.property_create().pk))
    d.refused(stranger.get(f"{url}/operations"), 404)
