"""gunicorn as a subprocess on a loopback port, for the tests that need real worker processes
(tests/core/test_gunicorn.py, tests/accounts/test_credential_cache_gunicorn.py,
tests/firmware/test_assignment_cache_gunicorn.py), and the database and manage.py they share."""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def gunicorn_command(application: str, port: int, workers: int, host: str = "127.0.0.1") -> list[str]:
    """`gunicorn -c config/gunicorn.py <application>` bound to host:port with `workers` workers."""
    exe = Path(sys.executable).parent / "gunicorn"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "gunicorn"]
    return [*command, "-c", "config/gunicorn.py", application, "--bind", f"{host}:{port}", "--workers", str(workers)]


@contextlib.contextmanager
def gunicorn_running(command: list[str], env: dict, log_path: Path, ready: Callable[[], bool]):
    """Start `command` in its own session, wait (60 s at most) until `ready()` is true, and stop
    it on exit (SIGTERM, then SIGKILL to the group). Its output goes to `log_path`, shown when it
    exits or never gets ready."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"gunicorn exited:\n{log_path.read_text(errors='replace')}"
            with contextlib.suppress(OSError, http.client.HTTPException):
                if ready():
                    break
            assert time.monotonic() < deadline, f"gunicorn not up:\n{log_path.read_text(errors='replace')}"
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def process_database(var: Path, tag: str):
    """The URL of a database for a test's own processes: a SQLite file in `var`, or, when
    DATABASE_URL names a PostgreSQL server, a database of its own there (`<name>_<tag>_<worker>`),
    created here and dropped on exit."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{var / 'db.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.strip('/')}_{tag}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env: dict, *args: str) -> str:
    """`manage.py <args>` in a process of its own over `env`; its output (fails unless it succeeds)."""
    done = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
