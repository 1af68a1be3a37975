import pytest

from tests.integrations.loopback import LoopbackServer


@pytest.fixture
def remote():
    """A loopback HTTP server standing in for a remote API (tests/integrations/loopback.py)."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _tasks_run_here(eager_celery):
    """Tasks (polls, mails) run in the test's process, also under CI phase 2 (tests/conftest.py)."""
