"""What the schema fuzz modules share (tests/api/test_fuzz.py, tests/integrations/test_compat_fuzz.py).

Both run schemathesis with every check against Django's live server on 127.0.0.1, built once
per module over data that stays for the module (docs/RELIABILITY.md, "Schema fuzz").
"""

import datetime as dt
import os
from contextlib import contextmanager

from schemathesis.config import SchemathesisConfig

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))


@contextmanager
def module_live_server(**settings):
    """A live server on 127.0.0.1 for a whole module; the database is flushed once at the end.

    Resetting the database per operation (pytest-django's `live_server` implies
    `transactional_db`: a TRUNCATE of every table per test) cost about a minute per operation
    on PostgreSQL, so the module's data stays and the tests after it start from the empty
    database they expect. Tasks run where they are queued (`CELERY_TASK_ALWAYS_EAGER`), also
    with REDIS_URL set, where no worker of the module listens. Call inside
    `django_db_blocker.unblock()`.
    """
    from django.core.management import call_command
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    overrides = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], CELERY_TASK_ALWAYS_EAGER=True, **settings
    )
    overrides.enable()
    server = LiveServer("127.0.0.1")
    server._live_server_modified_settings.enable()
    try:
        yield server
    finally:
        server._live_server_modified_settings.disable()
        server.stop()
        overrides.disable()
        call_command("flush", verbosity=0, interactive=False, database="default")


def fuzz_config(base_url: str, *, examples: int = EXAMPLES, phases: dict | None = None, **extra) -> SchemathesisConfig:
    """Every check; examples, coverage and fuzzing phases (plus `phases`); a fixed seed."""
    return SchemathesisConfig.from_dict(
        {
            "base-url": base_url,
            "seed": 18,
            # Text never carries U+0000 (DRF refuses it in every string; PostgreSQL cannot store it):
            # docs/API.md "Limits" states it once for every string rather than as N patterns.
            "generation": {"max-examples": examples, "no-shrink": True, "database": "none", "allow-x00": False},
            "checks": {"enabled": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                **(phases or {}),
            },
            "request-timeout": 30,
            **extra,
        }
    )


def parse_instant(value: str) -> dt.datetime | None:
    """An ISO 8601 instant with its offset, or None (a naive or malformed one)."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
