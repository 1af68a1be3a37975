"""gunicorn as a subprocess on a loopback port, for the tests that need real worker processes
(tests/core/test_gunicorn.py, tests/accounts/test_credential_cache_gunicorn.py)."""

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

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
