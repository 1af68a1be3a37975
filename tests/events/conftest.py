"""A real Celery worker process for tests marked `celery_worker`.

The worker is a subprocess (`python -m celery -A config worker --pool=solo`) talking to the
same Redis broker as the test process and to the pytest-django *test* database, so these
tests need REDIS_URL (broker) and a server database (DATABASE_URL=postgres://...): the
worker cannot see SQLite's in-memory test database. Without them the tests are skipped,
unless KEYHOUSE_TEST_REQUIRE_WORKER=1 (set by .ci/run), which turns the skip into a failure
so CI can never go green with the live tests silently skipped.

The fixture uses `transactional_db`: rows the test writes are really committed, and so
visible to the worker, and `transaction.on_commit` callbacks (the outbox enqueue) fire.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_ENV = "KEYHOUSE_TEST_REQUIRE_WORKER"
WORKER_START_TIMEOUT = 45.0
WORKER_STOP_TIMEOUT = 15.0


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"live Celery worker unavailable: {reason} ({REQUIRE_ENV}=1 forbids skipping)", pytrace=False)
    pytest.skip(f"live Celery worker unavailable: {reason}")


def _require_redis_broker() -> None:
    from django.conf import settings

    if not os.environ.get("REDIS_URL"):
        _unavailable("REDIS_URL is not set")
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _unavailable("CELERY_TASK_ALWAYS_EAGER is on")


def _database_url(settings_dict: dict) -> str:
    """DATABASE_URL for the worker, aimed at the test database the test process uses."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


@dataclass
class LiveWorker:
    hostname: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no worker log)"
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process.poll() is None


def _stop(process: subprocess.Popen) -> None:
    """Warm-shut the worker's whole process group; SIGKILL it if it does not go in time."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=WORKER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WORKER_STOP_TIMEOUT)


@pytest.fixture
def redis_broker():
    """Skip (or fail, under KEYHOUSE_TEST_REQUIRE_WORKER=1) unless Celery really uses Redis."""
    _require_redis_broker()
    from config.celery import app

    return app


def _worker_start(app, tmp_path: Path, *, celery_app: str = "config", env: dict | None = None) -> LiveWorker:
    """Start a real `celery worker` (app module `celery_app`) on the test database and wait
    until it answers a ping."""
    from django.conf import settings
    from django.db import connection

    hostname = f"keyhouse-test-{uuid.uuid4().hex[:10]}@localhost"
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "DB_CONN_MAX_AGE": "0",  # no idle connection left to block the test database's DROP
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        **(env or {}),
    }
    environment.pop("CELERY_TASK_ALWAYS_EAGER", None)
    command = [
        sys.executable, "-m", "celery", "-A", celery_app, "worker",
        "--pool=solo", "--concurrency=1", "-Q", ",".join(dict.fromkeys(settings.KEYHOUSE_QUEUES)), "--loglevel=INFO",
        "-n", hostname, "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    log_path = tmp_path / f"celery-worker-{hostname.split('@')[0]}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            command, cwd=ROOT, env=environment, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: killpg reaches the worker and nothing else
        )  # fmt: skip
    worker = LiveWorker(hostname=hostname, process=process, log_path=log_path)
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while True:
        if not worker.alive():
            pytest.fail(f"celery worker exited with {process.returncode} while starting:\n{worker.log_tail()}")
        if app.control.ping(destination=[hostname], timeout=0.5):
            return worker
        if time.monotonic() > deadline:
            _stop(process)
            pytest.fail(f"celery worker did not answer ping in {WORKER_START_TIMEOUT:.0f}s:\n{worker.log_tail()}")
        time.sleep(0.2)


def _live_database_required() -> None:
    from django.db import connection

    if connection.vendor == "sqlite":
        _unavailable("the test database is SQLite (set DATABASE_URL=postgres://...): a worker cannot share it")


class LiveWorkers:
    """Start workers (`start`), kill one as a crash would (`kill`); all stopped after the test."""

    def __init__(self, app, tmp_path: Path):
        self.app, self.tmp_path, self.started = app, tmp_path, []

    def start(self, *, celery_app: str = "config", env: dict | None = None) -> LiveWorker:
        worker = _worker_start(self.app, self.tmp_path, celery_app=celery_app, env=env)
        self.started.append(worker)
        return worker

    @staticmethod
    def kill(worker: LiveWorker) -> None:
        """SIGKILL the worker's whole process group: no warm shutdown, no ack, no cleanup."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=WORKER_STOP_TIMEOUT)


@pytest.fixture
def live_workers(transactional_db, redis_broker, tmp_path):
    """Workers a test starts and kills itself (tests/events/test_worker_killed.py). Tasks left in
    the queue by earlier tests (on-commit enqueues without a worker) would run against rows that
    no longer exist: it starts from an empty queue."""
    _live_database_required()
    redis_broker.control.purge()
    workers = LiveWorkers(redis_broker, tmp_path)
    try:
        yield workers
    finally:
        for worker in workers.started:
            _stop(worker.process)
        redis_broker.control.purge()  # a killed worker's task must not reach the next test


@pytest.fixture
def flaky():
    """A FlakyHandler registered for `test_events.flaky` with `event_handler`, removed afterwards."""
    from apps.events import registry
    from tests.events.helpers import FLAKY, FlakyHandler

    handler = FlakyHandler()
    registry.event_handler(FLAKY)(handler)
    yield handler
    registry.event_handler_unregister(FLAKY, handler)
    assert handler not in registry.handlers_for(FLAKY)


@pytest.fixture
def celery_worker_process(live_workers):
    """One real `celery worker` on the test database (a LiveWorker), stopped after the test."""
    return live_workers.start()
