"""The Celery app of the killed-worker tests: the project's app (`celery -A tests.events.live_app`)
plus a slow handler for `test_events.slow`, so a test can kill the worker inside it.

The handler appends one `test_events.effect` event (its effect, in the handler's transaction)
and, on its first run only, writes the marker file named by KEYHOUSE_TEST_SLOW_MARKER and
sleeps: the test sees the marker and SIGKILLs the worker there. Later runs return at once.
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
