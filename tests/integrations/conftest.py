import pytest

from tests.integrations.loopback import LoopbackServer


@pytest.fixture
def remote():
    """A loopback HTTP server standing in for a remote API (tests/integrations/loopback.py)."""
    with LoopbackServer() as server:
        yield server
