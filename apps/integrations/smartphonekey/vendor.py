"""SmartphoneKey as an integration vendor: its "poll" pushes pending native grants (push.py).

Credentials: `api_key` (sent as `X-API-Key`); the JWT is fetched per run (client.py).
"""

from apps.integrations.registry import Vendor, vendor_register
from apps.integrations.smartphonekey import handlers  # noqa: F401 - registers the grant event handlers
from apps.integrations.smartphonekey.push import smartphonekey_push_run

DEFAULT_BASE_URL = "https://api.spkey.co"  # Spec: seed 003's curl

vendor_register(
    Vendor(
        kind="smartphonekey",
        credential_fields=("api_key",),
        default_base_url=DEFAULT_BASE_URL,
        poll=smartphonekey_push_run,
        credential_headers={"api_key": "X-API-Key"},
        headers={"Content-Type": "application/json"},
    )
)
