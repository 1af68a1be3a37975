"""The bench's gunicorn: its command line (`gunicorn_command`, the one place it is spelled out),
started on a free loopback port for a block (`gunicorn_running`), its health check, and its stop."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.bench.common import HOST, ROOT, BenchError, log


def gunicorn_command(port: int, workers: int = 2) -> list[str]:
    exe = Path(sys.executable).parent / "gunicorn"
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "gunicorn"]
    return [
        *head,
        "-c",
        "config/gunicorn.py",  # the project's limits and JSON error worker, as `make serve-prod`
        "config.wsgi:application",
        "-w",
        str(workers),
        "-b",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
    ]


@dataclass
class Server:
    """A running gunicorn: its process, base URL and log file."""

    proc: subprocess.Popen
    base: str
    log_path: Path

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise BenchError(f"gunicorn died during the run:\n{tail(self.log_path)}")


@contextlib.contextmanager
def gunicorn_running(env: dict, tmp: Path, name: str, workers: int = 2):
    """A gunicorn -w `workers` on a free loopback port for the block; yields its Server."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    log_path = tmp / f"gunicorn-{name}.log"
    log(f"{name}: starting gunicorn -w {workers} on {base}")
    with open(log_path, "wb") as gunicorn_log:
        proc = subprocess.Popen(
            gunicorn_command(port, workers),
            cwd=ROOT,
            env=env,
            stdout=gunicorn_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(base, proc, log_path)
        yield Server(proc, base, log_path)
    finally:
        stop(proc)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_healthy(base: str, proc: subprocess.Popen, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
                last = f"status {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise BenchError(f"gunicorn not healthy after {timeout}s ({last}):\n{tail(log_path)}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: gunicorn master and its workers
        proc.wait(timeout=5)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
