"""Writes of the integration scaffolding (docs/INTEGRATIONS.md), by concern: accounts and their
credentials (accounts.py), and their polls (polling.py). Import from here."""

from apps.integrations.services.accounts import (
    UNSET,
    integration_account_create,
    integration_account_credentials,
    integration_account_delete,
    integration_account_update,
    integration_credentials_rewrap,
)
from apps.integrations.services.polling import (
    COUNTERS,
    SCHEDULED,
    integration_account_check,
    integration_account_poll,
    integration_account_poll_request,
    integration_accounts_dispatch,
)

__all__ = [
    "COUNTERS",
    "SCHEDULED",
    "UNSET",
    "integration_account_check",
    "integration_account_create",
    "integration_account_credentials",
    "integration_account_delete",
    "integration_account_poll",
    "integration_account_poll_request",
    "integration_account_update",
    "integration_accounts_dispatch",
    "integration_credentials_rewrap",
]
