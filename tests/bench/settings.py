"""Bench settings: the real settings, plus the bench-only URLconf and throttle rates high enough
never to answer 429 during a load run. Used only by tests/bench/run.py (DJANGO_SETTINGS_MODULE).

With BENCH_SQLITE_IMMEDIATE=true (set by run.py for the protocol part's measured gunicorn), a
SQLite database opens every transaction with BEGIN IMMEDIATE (Django's `transaction_mode`):
under WAL, a deferred transaction that reads and then writes fails at once with "database is
locked" when another connection wrote in between, whatever the busy timeout, so concurrent
syncs (read the lock row, then write it) from two workers would answer 500s. run.py measures
that failure rate under the project's own settings first (docs/PERFORMANCE.md, protocol part).
"""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES
from config.settings import REST_FRAMEWORK as _BASE_REST_FRAMEWORK

ROOT_URLCONF = "tests.bench.urls"

REST_FRAMEWORK = {
    **_BASE_REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **_BASE_REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "principal": "100000000/min",
        "address": "100000000/min",
        "sign_in": "100000000/min",  # the protocol part signs in one resident per connection
    },
}

if os.environ.get("BENCH_SQLITE_IMMEDIATE") == "true" and DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
