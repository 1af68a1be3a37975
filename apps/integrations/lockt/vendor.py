"""Lockt SecureAccess as an integration vendor (apps.integrations.registry).

A poll is the sync (apps/integrations/lockt/sync.py, docs/INTEGRATIONS.md "Lockt sync"): schedules,
doors, access levels, users and events mirrored into the account's property.
"""

from apps.integrations.lockt.client import LocktClient
from apps.integrations.lockt.poll import lockt_poll
from apps.integrations.registry import PollContext, Vendor, vendor_register

DEFAULT_BASE_URL = "https://cloudapi.lockt.com/api/v1"  # Spec: lockt-cloud-api.md §2.2


def lockt_check(context: PollContext) -> str:
    """Test connection: GET /ping (S06: only its status is documented) and /about (S01)."""
    client = LocktClient(context.http)
    client.ping()
    version = client.about().get("version")
    return f"Lockt {version}" if version else "Lockt"


vendor_register(
    Vendor(
        kind="lockt",
        credential_fields=("apiuser", "apikey"),
        default_base_url=DEFAULT_BASE_URL,
        poll=lockt_poll,
        check=lockt_check,
        credential_headers={"apiuser": "apiuser", "apikey": "apikey"},  # Spec: §2.3, on every request
        headers={"Content-Type": "application/json"},  # Spec: §2.4, GET included
    )
)
