"""What every module of the bench shares: where the project is, the loopback host, the knobs of a
load run (environment, read once; see tests/bench/run.py), the error that fails the run, the
log line, and running one step in a fresh process."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"

DURATION = max(1, min(int(os.environ.get("BENCH_DURATION", "8")), 60))
WARMUP = max(0, min(int(os.environ.get("BENCH_WARMUP", "2")), 30))
CONNECTIONS = max(1, min(int(os.environ.get("BENCH_CONNECTIONS", "4")), 64))
ROUNDS = max(1, min(int(os.environ.get("BENCH_ROUNDS", "4")), 20))
TOOL = os.environ.get("BENCH_TOOL", "").strip().lower()


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def run_checked(args: list[str], env: dict, *, timeout: int, what: str) -> str:
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: timed out after {timeout}s") from None
    if done.returncode != 0:
        raise BenchError(f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout
