"""Raising CredentialVersion: how a change to an API key reaches every process's cache."""

from django.db import transaction
from django.db.models import F

from apps.accounts.models import CredentialVersion


def credential_version_bump() -> None:
    """Raise the version in the caller's transaction (it must be in one): when that commits,
    the next request in every process stops using the API keys it kept
    (accounts.credential_cache); when it rolls back, nothing was kept wrongly."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("credential_version_bump() must run inside the change's transaction")
    if not CredentialVersion.objects.filter(pk=1).update(value=F("value") + 1):
        CredentialVersion.objects.create(pk=1, value=1)  # the row went (a test flush): start again
