"""Revocation across processes: gunicorn with 2 workers on loopback, each keeping the API keys
it has authenticated (accounts.credential_cache); a change made by a third process (a
management shell, as the admin or another host would) is refused on the next request in every
worker. SQLite by default; on PostgreSQL when DATABASE_URL names one (a database of its own,
created and dropped here)."""

import contextlib
import http.client
import json
import os
from pathlib import Path

import pytest

from tests.gunicorn_process import free_port, gunicorn_command, gunicorn_running, manage, process_database

HOST = "127.0.0.1"
REQUESTS = 16  # per check: sync workers race for each new connection, so both serve some


def _get(port: int, path: str, secret: str) -> tuple[int, int]:
    """(status, worker pid) of one request on a new connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=20)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {secret}", "Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status, int(response.getheader("X-Test-Worker-Pid", "0"))
    finally:
        conn.close()


def _statuses(port: int, secret: str) -> set[int]:
    return {_get(port, "/api/v1/api-keys", secret)[0] for _ in range(REQUESTS)}


def _key(env: dict, name: str) -> tuple[str, str]:
    out = manage(env, "apikey_create", name, "--permission", "owner")
    key_id = out.split("apiKeyId:")[1].split()[0]
    secret = out.split("secret:")[1].split()[0]
    return key_id, secret


def _shell(env: dict, code: str) -> None:
    manage(
        env,
        "shell",
        "-c",
        "from apps.accounts import services; from apps.accounts.models import ApiKey; "
        "from apps.core.actors import SYSTEM; from apps.core.principal import Grant; " + code,
    )


@contextlib.contextmanager
def _serve(var: Path, env: dict, server_env: dict | None = None):
    """gunicorn -w 2 on a free loopback port over `env`'s database; yields the port."""
    port = free_port()
    command = gunicorn_command("tests.accounts.pid_wsgi:application", port, workers=2, host=HOST)
    log_path = var / f"gunicorn-{port}.log"

    def ready() -> bool:
        return _get(port, "/api/v1/api-keys", "khk_000000000000_none")[0] == 401

    with gunicorn_running(command, {**env, **(server_env or {})}, log_path, ready):
        yield port


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """(var dir, environment) of a migrated database of this module's own."""
    var = tmp_path_factory.mktemp("credcache")
    with process_database(var, "credcache") as database_url:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "KEYHOUSE_VAR_DIR": str(var),
            "DATABASE_URL": database_url,
        }
        manage(env, "migrate", "--noinput")
        yield var, env


@pytest.fixture(scope="module")
def site(database):
    var, env = database
    with _serve(var, env) as port:
        yield port, env


def _warm(port: int, secret: str) -> None:
    """Requests until both workers have served (and so kept) the key."""
    pids = set()
    for _ in range(200):
        status, pid = _get(port, "/api/v1/api-keys", secret)
        assert status == 200
        pids.add(pid)
        if len(pids) == 2:
            return
    pytest.fail(f"one gunicorn worker served every request: {pids}")


def test_a_key_revoked_in_another_process_is_refused_by_every_worker(site):
    port, env = site
    key_id, secret = _key(env, "Front desk")
    _warm(port, secret)
    _shell(env, f"services.api_key_revoke(api_key=ApiKey.objects.get(pk='{key_id}'), actor=SYSTEM)")
    assert _statuses(port, secret) == {401}


def test_a_key_narrowed_in_another_process_is_refused_by_every_worker(site):
    port, env = site
    key_id, secret = _key(env, "Installer")
    _warm(port, secret)
    _shell(
        env,
        f"services.api_key_update(api_key=ApiKey.objects.get(pk='{key_id}'), display_name='Installer', "
        "grants=[Grant('support')], actor=SYSTEM)",
    )
    assert _statuses(port, secret) == {403}  # support may not list API keys


def test_revoking_through_the_api_reaches_the_other_worker(site):
    port, env = site
    _, owner = _key(env, "Owner")
    key_id, secret = _key(env, "Contractor")
    _warm(port, secret)
    conn = http.client.HTTPConnection(HOST, port, timeout=20)
    conn.request("DELETE", f"/api/v1/api-keys/{key_id}", headers={"Authorization": f"Bearer {owner}"})
    response = conn.getresponse()
    assert response.status == 200, response.read()
    assert json.loads(response.read())["data"]["displayName"] == "Contractor"
    conn.close()
    assert _statuses(port, secret) == {401}


def test_with_redis_unreachable_the_api_answers_and_a_revocation_still_reaches_every_worker(database):
    """The counter is in the database: a Redis outage neither breaks authentication nor lets a
    revoked key through. The server's REDIS_URL names a closed port; the revoking process has
    no Redis at all (eager Celery)."""
    var, env = database
    no_redis = {k: v for k, v in env.items() if k != "REDIS_URL"}
    key_id, secret = _key(no_redis, "Night porter")
    with _serve(var, no_redis, {"REDIS_URL": f"redis://{HOST}:{free_port()}/0"}) as port:
        _warm(port, secret)
        _shell(no_redis, f"services.api_key_revoke(api_key=ApiKey.objects.get(pk='{key_id}'), actor=SYSTEM)")
        assert _statuses(port, secret) == {401}
