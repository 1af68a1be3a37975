"""A staff member imports a spreadsheet of residents in a real browser: uploads it, reads the
diff (one to create, one to update with before and after, one row error), ticks "apply the
valid rows only", applies, and watches the page follow the run to "applied"."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.imports import services, tasks
from apps.imports.models import ImportRun
from tests.browser.test_admin_and_docs import admin_login, failed_responses, staff_user  # noqa: F401 (fixtures)
from tests.factories import directory as d

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]

SHOTS = Path("/tmp/keyhouse-imports")  # noqa: S108 - screenshots for a person to look at, not kept

CSV = "Email;DisplayName;Groups\r\nana@example.com;Ana Lee;Gym\r\nbo@example.com;Bo Brown;\r\nnot-an-email;Cy;\r\n"


def test_staff_uploads_sees_the_diff_applies_and_watches_progress(
    page,
    live_server,
    staff_user,  # noqa: F811
    failed_responses,  # noqa: F811
    monkeypatch,
    tmp_path,
):
    SHOTS.mkdir(exist_ok=True)
    prop = d.property_create(display_name="Harbour House")
    d.group_create(prop, display_name="Gym")
    d.member_add(d.property_group(prop), d.user_create(email="bo@example.com", display_name="Bo"))
    queued = []
    monkeypatch.setattr(tasks.import_run_apply, "delay", queued.append)  # the worker starts when the test says
    upload = tmp_path / "residents.csv"
    upload.write_text(CSV)

    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/imports/importrun/")
    page.click("text=Upload a file to import")
    page.select_option("select[name=property]", label="Harbour House")
    page.select_option("select[name=kind]", "users")
    page.set_input_files("input[name=file]", str(upload))
    page.screenshot(path=str(SHOTS / "1-upload.png"), full_page=True)
    page.click("input[name=upload]")

    assert page.locator("#import-state").inner_text() == "validated"
    assert page.locator("#import-summary").inner_text() == (
        "1 to create, 1 to update, 0 unchanged, 0 to remove, 1 error"
    )
    assert page.locator("#import-update tbody tr").first.inner_text().split("\t") == [
        "3",
        "bo@example.com",
        "displayName",
        "Bo",
        "Bo Brown",
    ]
    assert "not an email address" in page.locator("#import-errors").inner_text()
    assert "displayName: Ana Lee; groups: Gym" in page.locator("#import-create").inner_text()
    assert page.locator("input[value=Apply]").count() == 0  # errors: no plain Apply
    page.screenshot(path=str(SHOTS / "2-diff.png"), full_page=True)
    assert not User.objects.filter(email="ana@example.com").exists()

    page.check("#valid-rows-only")
    page.click("input[name=apply]")
    assert page.locator("#import-state").inner_text() == "applying"
    assert page.locator("#import-progress").inner_text() == "0 / 2 rows"
    page.screenshot(path=str(SHOTS / "3-applying.png"), full_page=True)

    run = ImportRun.objects.get()
    assert queued == [str(run.pk)]
    services.import_run_apply(run_id=run.pk)  # the worker runs; the page refreshes itself
    expect(page.locator("#import-state")).to_have_text("applied", timeout=10_000)  # no eval: the page's CSP
    assert page.locator("#import-progress").inner_text() == "2 / 2 rows"
    page.screenshot(path=str(SHOTS / "4-applied.png"), full_page=True)

    assert User.objects.get(email="bo@example.com").display_name == "Bo Brown"
    assert User.objects.get(email="ana@example.com").user_groups.filter(display_name="Gym").exists()
    page.goto(f"{live_server.url}/admin/imports/importrun/")
    row = page.locator("#result_list tbody tr").first.inner_text()
    assert row.split("\t")[:6] == ["residents.csv", "Harbour House", "Users", "Merge", "Applied", "2 / 2"]
    assert row.split("\t")[6:8] == [staff_user.display_name, staff_user.display_name]  # who uploaded, who applied
    page.screenshot(path=str(SHOTS / "5-history.png"), full_page=True)
    assert failed_responses == []
