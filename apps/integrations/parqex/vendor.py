"""ParqEx as an integration vendor (apps.integrations.registry): one access token per account.

The token is sent as `Authorization: Bearer <token>` (seed 004), so the poll builds its own
client from it (`client.http_for_token`) rather than a plain credential header.
"""

from apps.integrations.parqex import handlers  # noqa: F401 - registers the stale-health handler
from apps.integrations.parqex.client import HEADERS
from apps.integrations.parqex.services import parqex_poll
from apps.integrations.registry import Vendor, vendor_register

DEFAULT_BASE_URL = "https://api.parqex.com"  # Spec: seed 004, GET https://api.parqex.com/oauth/v1/endpoints/sync

vendor_register(
    Vendor(
        kind="parqex",
        credential_fields=("token",),
        default_base_url=DEFAULT_BASE_URL,
        poll=parqex_poll,
        headers=HEADERS,
    )
)
