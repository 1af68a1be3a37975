import pytest

from apps.integrations.parqex.emulator import state as parqex_emulator
from apps.integrations.smartphonekey.emulator import state as smartphonekey_emulator
from tests.integrations.loopback import LoopbackServer
from tests.integrations.parqex_support import EMULATOR as PARQEX_EMULATOR


@pytest.fixture
def remote():
    """A loopback HTTP server standing in for a remote API (tests/integrations/loopback.py)."""
    with LoopbackServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _tasks_run_here(eager_celery):
    """Tasks (polls, mails) run in the test's process, also under CI phase 2 (tests/conftest.py)."""


@pytest.fixture
def parqex_url(live_server, settings):
    """The ParqEx emulator on a live server (mounted at /_emulators/parqex/), fresh state."""
    settings.KEYHOUSE_INTEGRATION_ALLOW_HTTP = True
    parqex_emulator.reset()
    yield f"{live_server.url}{PARQEX_EMULATOR}"
    parqex_emulator.reset()


@pytest.fixture
def smartphonekey_url(live_server, settings):
    """The SmartphoneKey emulator on a live server (mounted at /_emulators/smartphonekey/), fresh state."""
    settings.KEYHOUSE_INTEGRATION_ALLOW_HTTP = True
    smartphonekey_emulator.reset()
    yield f"{live_server.url}/_emulators/smartphonekey"
    smartphonekey_emulator.reset()
