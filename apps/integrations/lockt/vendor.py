"""Lockt SecureAccess as an integration vendor (apps.integrations.registry).

Until the sync lands (issue 12's second part), a poll checks the account: `GET /ping`
(connectivity and authorization, spec S06) and `GET /about` (the release, S01), so an account's
status already says whether its URL and credentials work.
"""

from apps.integrations.lockt.client import LocktClient
from apps.integrations.registry import PollContext, Vendor, vendor_register

DEFAULT_BASE_URL = "https://cloudapi.lockt.com/api/v1"  # Spec: lockt-cloud-api.md §2.2


def lockt_poll(context: PollContext) -> None:
    """Check connectivity, credentials and that the remote speaks Lockt (S06, S01)."""
    client = LocktClient(context.http)
    client.ping()  # Spec: S06; only its status is documented (§10.11)
    client.about()  # Spec: S01, `{"data": {"version", ...}}`


vendor_register(
    Vendor(
        kind="lockt",
        credential_fields=("apiuser", "apikey"),
        default_base_url=DEFAULT_BASE_URL,
        poll=lockt_poll,
        credential_headers={"apiuser": "apiuser", "apikey": "apikey"},  # Spec: §2.3, on every request
        headers={"Content-Type": "application/json"},  # Spec: §2.4, GET included
    )
)
