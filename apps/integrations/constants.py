"""Limits of the integration scaffolding (docs/INTEGRATIONS.md); settings override the backoff."""

POLL_INTERVAL_DEFAULT = 300  # seconds between polls of a healthy account
POLL_INTERVAL_MIN = 60
POLL_INTERVAL_MAX = 86400
# A claimed poll holds the account this long: the dispatcher does not enqueue it again, and a
# run still "running" after it is taken for lost (its worker died) and closed as failed.
POLL_LEASE_SECONDS = 900
CREDENTIALS_PURPOSE = "integration-credentials"  # KEK associated data (apps.keys.kek)
CREDENTIALS_ALGORITHM = "json"
ERROR_TEXT_MAX = 2000
CREDENTIAL_MAX_LENGTH = 500
