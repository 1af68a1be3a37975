"""Test settings: the real settings, with one change for parallel runs.

Under pytest-xdist (`make test` runs `pytest -n`), each test process gets its own pair of Redis
databases (broker, and the cache on the next number), so one process's live Celery worker never
takes another's tasks and no process clears another's cache. pytest-django gives each process
its own test database the same way (`test_<name>_gw<N>`). REDIS_URL is rewritten in the
environment, once, so that the subprocesses a test starts (a live worker, gunicorn) use the same
databases as the process that started them.
"""

import os
from urllib.parse import urlsplit, urlunsplit

_SHIFTED = "KEYHOUSE_TEST_REDIS_SHIFTED"


def _redis_url_for_worker(url: str, worker: str) -> str:
    """gw0 → database + 2, gw1 → + 4, …: the +1 of each pair is its cache (config/settings.py)."""
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0) + 2 * (int(worker.removeprefix("gw")) + 1)
    if db + 1 > 15:  # Redis' default `databases 16`
        raise RuntimeError(f"REDIS_URL {url}: test process {worker} would need Redis database {db + 1}; use fewer (-n)")
    return urlunsplit(parts._replace(path=f"/{db}"))


if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("REDIS_URL") and not os.environ.get(_SHIFTED):
    os.environ["REDIS_URL"] = _redis_url_for_worker(os.environ["REDIS_URL"], os.environ["PYTEST_XDIST_WORKER"])
    os.environ[_SHIFTED] = "1"

from config.settings import *  # noqa: E402, F403
