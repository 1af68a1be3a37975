"""The Celery app of the killed-worker tests: the project's app (`celery -A tests.events.live_app`)
plus two places where the worker can be made to stop and wait, so a test can kill it there.

- A slow handler for `test_events.slow`: it appends one `test_events.effect` event (its effect,
  in the handler's transaction) and, on its first run only, writes the marker file named by
  KEYHOUSE_TEST_SLOW_MARKER and sleeps. Later runs return at once.
- With KEYHOUSE_TEST_SLOW_SIGN_MARKER set, the first signature of a key-map build
  (`canonical.sign_payload`, which every build calls per lock) writes that marker and sleeps:
  the worker is then inside the build's transaction.
- With KEYHOUSE_TEST_SLOW_IMPORT_MARKER set, the second batch of an import's apply writes that
  marker and sleeps: the first batch is written, not committed (tests/imports).
"""

import os
import time
from pathlib import Path

from apps.events.registry import event_handler
from config.celery import app  # noqa: F401 - `celery -A` finds the app here

SLOW = "test_events.slow"
EFFECT = "test_events.effect"
SLEEP = 120.0


def slow_handler(event) -> None:
    from apps.core.actors import SYSTEM
    from apps.events.services import event_append

    event_append(event_name=EFFECT, actor=SYSTEM, payload={"of": str(event.pk)})
    marker = Path(os.environ["KEYHOUSE_TEST_SLOW_MARKER"])
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(SLEEP)


event_handler(SLOW)(slow_handler)


def _slow_first_signature() -> None:
    from apps.keys import canonical

    sign_payload = canonical.sign_payload
    marker = Path(os.environ["KEYHOUSE_TEST_SLOW_SIGN_MARKER"])

    def slow(*args, **kwargs):
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(SLEEP)
        return sign_payload(*args, **kwargs)

    canonical.sign_payload = slow


if os.environ.get("KEYHOUSE_TEST_SLOW_SIGN_MARKER"):
    _slow_first_signature()


def _slow_second_import_batch() -> None:
    from apps.imports import services

    apply_batch = services._apply
    marker = Path(os.environ["KEYHOUSE_TEST_SLOW_IMPORT_MARKER"])
    calls = []

    def slow(state, batch):
        calls.append(1)
        if len(calls) == 2 and not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(SLEEP)
        return apply_batch(state, batch)

    services._apply = slow


if os.environ.get("KEYHOUSE_TEST_SLOW_IMPORT_MARKER"):
    from celery.signals import worker_init

    @worker_init.connect
    def _patch_imports(**_):
        import django

        django.setup()  # the imports app's models load only once Django is (idempotent)
        _slow_second_import_batch()
