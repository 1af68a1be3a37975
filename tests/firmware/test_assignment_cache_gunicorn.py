"""Firmware assignments across processes: gunicorn with 2 workers on loopback, each keeping the
assignments it has read (firmware.assignment_cache); a change made by a third process (a
management shell, as the admin or another host would) or through the API is shown by the next
request in every worker. SQLite by default; on PostgreSQL when DATABASE_URL names one (a
database of its own, created and dropped here)."""

import http.client
import json
import os

import pytest

from tests.gunicorn_process import free_port, gunicorn_command, gunicorn_running, manage, process_database

HOST = "127.0.0.1"
SETUP = """
from django.core.files.base import ContentFile
from apps.access import services as access
from apps.core.actors import SYSTEM
from apps.firmware import services as firmware
prop = access.property_create(display_name="Harbour House", address={"line1": "1 Quay", "city": "Leith",
    "state": "", "country": "GB", "postalCode": "EH6 6AA"}, time_zone="UTC", actor=SYSTEM)
area = access.area_create(prop=prop, display_name="Flat 1", area_type="resident", actor=SYSTEM)
for v in ("1.0", "2.0"):
    firmware.firmware_version_upload(version=v, upload=ContentFile(v.encode(), name="image.bin"), actor=SYSTEM)
print("ids", prop.pk, area.pk)
"""
ASSIGN = """
from apps.core.actors import SYSTEM
from apps.firmware import selectors, services
from apps.properties.models import Property
services.firmware_assign(firmware_version=selectors.firmware_version_get(version="{version}"), scope="property",
    prop=Property.objects.get(pk="{prop}"), actor=SYSTEM)
"""


def _request(port: int, method: str, path: str, secret: str) -> tuple[int, int, dict]:
    """(status, worker pid, JSON body) of one request on a new connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=20)
    try:
        conn.request(method, path, headers={"Authorization": f"Bearer {secret}", "Connection": "close"})
        response = conn.getresponse()
        body = response.read()
        return response.status, int(response.getheader("X-Test-Worker-Pid", "0")), json.loads(body or b"{}")
    finally:
        conn.close()


def _required_in_every_worker(port: int, secret: str, prop: str, area: str) -> set:
    """The (property's, area's) required version each worker shows: requests until both
    workers have answered both reads; every answer counts."""
    seen, pids = set(), {"get": set(), "list": set()}
    for _ in range(200):
        for name, path in (("get", f"/api/v1/properties/{prop}"), ("list", f"/api/v1/properties/{prop}/areas")):
            status, pid, body = _request(port, "GET", path, secret)
            assert status == 200, body
            data = body["data"]
            (row,) = data["properties"] if name == "list" else [data]
            seen.add((name, row["private"]["requiredFirmwareVersion"]))
            pids[name].add(pid)
        if len(pids["get"]) == len(pids["list"]) == 2:
            return seen
    pytest.fail(f"one gunicorn worker served every request: {pids}")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    var = tmp_path_factory.mktemp("fwcache")
    with process_database(var, "fwcache") as database_url:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "KEYHOUSE_VAR_DIR": str(var),
            "DATABASE_URL": database_url,
        }
        manage(env, "migrate", "--noinput")
        out = manage(env, "apikey_create", "Firmware desk", "--permission", "owner", "--permission", "manage-firmware")
        secret = out.split("secret:")[1].split()[0]
        prop, area = manage(env, "shell", "-c", SETUP).split("ids")[1].split()
        port = free_port(HOST)
        command = gunicorn_command("tests.accounts.pid_wsgi:application", port, workers=2, host=HOST)

        def ready() -> bool:
            return _request(port, "GET", "/api/v1/api-keys", "khk_000000000000_none")[0] == 401

        with gunicorn_running(command, env, var / "gunicorn.log", ready):
            yield port, env, secret, prop, area


def test_an_assignment_made_in_another_process_is_shown_by_every_worker(site):
    port, env, secret, prop, area = site
    assert _required_in_every_worker(port, secret, prop, area) == {("get", None), ("list", None)}  # now kept
    manage(env, "shell", "-c", ASSIGN.format(version="1.0", prop=prop))
    assert _required_in_every_worker(port, secret, prop, area) == {("get", "1.0"), ("list", "1.0")}
    manage(env, "shell", "-c", ASSIGN.format(version="2.0", prop=prop))
    assert _required_in_every_worker(port, secret, prop, area) == {("get", "2.0"), ("list", "2.0")}


def test_an_unassignment_through_the_api_reaches_the_other_worker(site):
    port, env, secret, prop, area = site
    manage(env, "shell", "-c", ASSIGN.format(version="1.0", prop=prop))
    assert _required_in_every_worker(port, secret, prop, area) == {("get", "1.0"), ("list", "1.0")}
    status, _, body = _request(port, "PUT", f"/api/v1/firmware/unassign?scope=property&propertyId={prop}", secret)
    assert status == 200, body
    assert _required_in_every_worker(port, secret, prop, area) == {("get", None), ("list", None)}
