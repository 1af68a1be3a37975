"""What a staff user sees in a real browser: the admin dashboard, creating an API key in the
admin (secret shown once, and it works against the API), and the Swagger UI docs page."""

import json
import re
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.factories.accounts import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF_EMAIL = "browser-staff@example.test"
STAFF_PASSWORD = "browser-test-password-7f3k"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture
def staff_user(transactional_db):
    return UserFactory(email=STAFF_EMAIL, is_staff=True, is_superuser=True, password=STAFF_PASSWORD)


def _request_failed(failures, request):
    # select2 aborts its search request when the next keystroke supersedes it: the page's own
    # script cancelled it, so the server never failed. Any other failed request counts.
    cancelled_by_script = request.resource_type in ("xhr", "fetch") and "ERR_ABORTED" in (request.failure or "")
    if not cancelled_by_script:
        failures.append(f"failed {request.url} {request.failure}")


@pytest.fixture
def failed_responses(page):
    """HTTP errors the page ran into (a 404 stylesheet or script would show up here)."""
    failures = []
    page.on(
        "response",
        lambda response: failures.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    page.on("requestfailed", lambda request: _request_failed(failures, request))
    return failures


def admin_login(page, live_server):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", STAFF_EMAIL)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state("load")


def test_staff_logs_in_and_sees_dashboard(page, live_server, staff_user, failed_responses, screenshot_dir):
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url  # not signed in yet: redirected to the login form
    assert page.locator("label[for=id_username]").inner_text().strip().rstrip(":") == "Email"

    admin_login(page, live_server)

    assert urlsplit(page.url).path == "/admin/"
    assert page.locator("#content h1").inner_text() == "Keyhouse dashboard"
    assert page.locator("#site-name").inner_text().strip() == "Keyhouse"
    dashboard = page.locator("#keyhouse-dashboard")
    assert dashboard.is_visible()
    assert dashboard.locator("h2").inner_text().lower() == "at a glance"
    rows = {row.locator("th").inner_text(): row.locator("td").inner_text() for row in dashboard.locator("tr").all()}
    assert rows == {
        "Properties": "0",
        "Areas": "0",
        "Users": "1",
        "Active API keys": "0",
        "Events waiting to be processed": "0",
    }
    # The admin's own stylesheet loaded (served by the live server's static handler).
    assert page.locator("#header").evaluate("el => getComputedStyle(el).display") == "flex"
    assert failed_responses == []

    page.screenshot(path=str(screenshot_dir / "admin_dashboard.png"), full_page=True)


def test_staff_creates_api_key_secret_shown_once_and_works(
    page, live_server, staff_user, failed_responses, screenshot_dir
):
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/accounts/apikey/add/")
    page.fill("input[name=display_name]", "Browser-made key")
    page.select_option("select[name$='-0-permission']", "owner")
    with page.expect_navigation() as navigation:
        page.click("input[name=_save]")
    status = navigation.value.status
    assert status == 200, f"saving the new API key in the admin answered {status}: {page.title()!r}"

    assert urlsplit(page.url).path == "/admin/accounts/apikey/add/"  # the one-time page is the POST's response
    assert page.get_by_role("heading", name="created").first.is_visible()
    assert "Browser-made key" in page.locator("#content").inner_text()
    secret = page.locator("#api-key-secret").inner_text().strip()
    assert secret.startswith("khk_")
    assert failed_responses == []
    page.screenshot(path=str(screenshot_dir / "api_key_created.png"))

    request = urllib.request.Request(
        f"{live_server.url}/api/v1/api-keys",
        headers={"Authorization": f"Bearer {secret}", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # raises on non-2xx
        assert response.status == 200
        assert response.headers.get_content_type() == "application/json"
        body = json.loads(response.read())
    assert body["success"] is True
    assert [key["displayName"] for key in body["data"]["apiKeys"]] == ["Browser-made key"]

    # The key's change page (and any reload of it) never shows the secret again.
    page.click("text=Continue to the key")
    page.wait_for_load_state("load")
    assert re.fullmatch(r"/admin/accounts/apikey/[0-9a-f-]+/change/", urlsplit(page.url).path)
    page.reload()
    assert page.locator("input[name=display_name]").input_value() == "Browser-made key"
    assert page.locator("#api-key-secret").count() == 0
    assert secret not in page.content()
    prefix = secret.split("_")[1]
    assert prefix in page.locator(".field-prefix").inner_text()  # the public prefix is fine to show


def test_api_docs_render_from_local_assets(page, live_server, failed_responses, screenshot_dir):
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/api/v1/docs/")
    path = page.locator(".opblock-summary-path[data-path='/api/v1/api-keys']").first
    path.wait_for(state="visible")
    assert path.inner_text().replace("\u200b", "") == "/api/v1/api-keys"
    assert "DoorLock API" in page.locator(".info .title").inner_text()
    page.wait_for_load_state("networkidle")

    foreign = [
        url
        for url in requested
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).hostname not in LOCAL_HOSTS
    ]
    assert foreign == []
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in url for url in requested)
    assert failed_responses == []

    page.screenshot(path=str(screenshot_dir / "api_docs.png"), full_page=False)


def test_redoc_renders_without_foreign_fonts_or_csp_violations(page, live_server, failed_responses):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/v1/redoc/")
    page.get_by_text("DoorLock API").first.wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    foreign = [url for url in requested if urlsplit(url).hostname not in LOCAL_HOSTS and url.startswith("http")]
    assert foreign == []
    assert failed_responses == []
