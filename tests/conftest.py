import asyncio
import os

import pytest
from rest_framework.test import APIClient

from tests.factories.accounts import UserFactory, api_key_client


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Fresh local-memory cache per test, so throttle counters never leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fast_password_hashing(settings):
    """MD5 password hashing, opted into by tests that sign in by password (the sign-ins are part
    of those tests, password strength is not: tests/accounts/test_sign_in.py)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for(db):
    """client_for("owner") / client_for(Grant("owner", property_id=...)) → (APIClient, ApiKey);
    tests/factories/accounts.py's api_key_client, and its key_client for the client alone."""
    return api_key_client


@pytest.fixture
def owner_client(client_for):
    client, _ = client_for("owner")
    return client


@pytest.fixture
def staff_user(db):
    # A fixed name: a random one ("Buchanan") could match a test's admin search ("chan").
    return UserFactory(email="staff@example.test", display_name="Staff Member", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture(scope="session", autouse=True)
def _secret_watch():
    """Remember every secret the suite creates and every log line it writes (tests/secret_watch.py)."""
    from tests import secret_watch

    secret_watch.install()
    yield


def pytest_runtest_setup(item):
    from tests.secret_watch import keep_watching

    keep_watching()
    if not item.get_closest_marker("browser"):
        _no_event_loop_left(item)


def _no_event_loop_left(item):
    """A test outside the browser tests runs with no asyncio loop in this thread. Playwright's
    sync API marks its loop as running until it stops (tests/browser/conftest.py stops it after
    each module); under a loop, Django keeps connections per context, and one left open then
    outlives pytest-django's close and keeps the test database from being dropped."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    pytest.fail(f"{item.nodeid}: an asyncio loop is still running in this thread (a browser fixture left open?)")


def pytest_collection_modifyitems(config, items):
    """Tests marked `serial` restart a server every test process shares (PostgreSQL): in a
    parallel run (`pytest -n N`, N > 1) they are skipped; `.ci/run` runs them alone afterwards."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        alone = pytest.mark.skip(reason=f"restarts what {workers} parallel test processes share: run alone (-m serial)")
        for item in items:
            if item.get_closest_marker("serial"):
                item.add_marker(alone)


def _secret_watch_totals(config) -> tuple[int, int, list]:
    """(secret forms, log lines, leaks) of this process, plus those of every pytest-xdist worker
    that reported to it (`pytest_testnodedown`)."""
    from tests.secret_watch import WATCH

    secrets, lines, leaks = len(WATCH.secrets), len(WATCH.lines), [tuple(leak) for leak in WATCH.leaks()]
    for report in getattr(config, "_secret_watch_workers", []):
        secrets, lines = secrets + report["secrets"], lines + report["lines"]
        leaks += [tuple(leak) for leak in report["leaks"]]
    return secrets, lines, leaks


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """Under pytest-xdist (`-n`): collect what each worker's watch saw."""
    report = getattr(node, "workeroutput", {}).get("secret_watch")
    if report:
        node.config._secret_watch_workers = [*getattr(node.config, "_secret_watch_workers", []), report]


def pytest_terminal_summary(terminalreporter):
    from tests.secret_watch import WATCH

    workers = getattr(terminalreporter.config, "_secret_watch_workers", [])
    if WATCH.installed or workers:
        secrets, lines, leaks = _secret_watch_totals(terminalreporter.config)
        terminalreporter.write_line(
            f"secret watch: {secrets} secret forms created, {lines} log lines read, {len(leaks)} leaks"
        )


def pytest_sessionfinish(session, exitstatus):
    from tests.secret_watch import WATCH

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller reports and fails
        workeroutput["secret_watch"] = {
            "secrets": len(WATCH.secrets), "lines": len(WATCH.lines), "leaks": [list(leak) for leak in WATCH.leaks()],
        }  # fmt: skip
        return
    leaks = _secret_watch_totals(session.config)[2]
    if not leaks:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    reporter.write_line("")
    reporter.write_line(f"SECRETS IN LOGS: {len(leaks)} log line(s) hold a secret the suite created:", red=True)
    for logger_name, kind in sorted(set(leaks)):
        reporter.write_line(f"  logger {logger_name!r}: a {kind}", red=True)
    session.exitstatus = 1


@pytest.fixture
def eager_celery(settings):
    """Run Celery tasks in the calling process, as `make run` does, also where REDIS_URL is set
    (CI phase 2 sends them to Redis, where no worker of these tests listens). For tests of what
    a task does; the brokered path has its own tests with a live worker (tests/events). Celery
    reads the CELERY_* Django settings at each use (config/celery.py), so overriding them works."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True


@pytest.fixture
def one_throttle_window(monkeypatch):
    """Every request of a test in one rate-limit window: with the real clock, a test that
    crossed a minute boundary (a password check takes a while) started a fresh window and
    failed now and then."""
    from apps.core.api.throttling import FixedWindowRateThrottle

    monkeypatch.setattr(FixedWindowRateThrottle, "timer", staticmethod(lambda: 1_800_000_030.0))
