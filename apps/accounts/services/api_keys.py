"""API keys, and the last-use and re-hash bookkeeping every credential shares.
Every write is one transaction with its event."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.credentials import (
    API_KEY_KIND,
    current_pepper_id,
    secret_digest,
    secret_generate,
)
from apps.accounts.models import ApiKey
from apps.accounts.services.credential_version import credential_version_bump
from apps.accounts.services.grants import _grants_replace
from apps.core.choices import EntityTypeState
from apps.core.principal import Grant
from apps.events.services import event_append

logger = logging.getLogger("keyhouse.accounts")


@transaction.atomic
def api_key_create(*, display_name: str, grants: list[Grant], actor: str, api_key_id=None) -> tuple[ApiKey, str]:
    """Create an API key and its grants (event `api_key.created`). Returns (key, secret):
    the secret exists only in this return value. `api_key_id` lets the admin keep its id."""
    parsed = secret_generate(API_KEY_KIND)
    pepper_id = current_pepper_id()
    api_key = ApiKey(
        **({"id": api_key_id} if api_key_id else {}),
        display_name=display_name,
        prefix=parsed.prefix,
        digest=secret_digest(parsed.secret, pepper_id),
        pepper_id=pepper_id,
        last_modified_by=actor,
    )
    api_key.full_clean()
    api_key.save()
    _grants_replace(holder={"api_key": api_key}, grants=grants, field="apiPermissions")
    event_append(
        event_name="api_key.created",
        actor=actor,
        api_key_id=api_key.id,
        payload={"displayName": display_name, "permissions": [g.permission for g in grants]},
    )
    return api_key, parsed.secret


@transaction.atomic
def api_key_update(*, api_key: ApiKey, display_name: str, grants: list[Grant], actor: str) -> ApiKey:
    """Rename a key and replace its grants (event `api_key.updated`)."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    api_key.display_name = display_name
    api_key.last_modified_by = actor
    api_key.full_clean()
    api_key.save()
    _grants_replace(holder={"api_key": api_key}, grants=grants, field="apiPermissions")
    credential_version_bump()  # a narrowed key must not keep its old grants in any process
    event_append(
        event_name="api_key.updated",
        actor=actor,
        api_key_id=api_key.id,
        payload={"displayName": display_name, "permissions": [g.permission for g in grants]},
    )
    return api_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: str) -> ApiKey:
    """Revoke an API key for good (event `api_key.revoked`); repeating it changes nothing."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        return api_key
    api_key.revoked_at = timezone.now()
    api_key.type_state = EntityTypeState.DELETED
    api_key.last_modified_by = actor
    api_key.save(update_fields=["revoked_at", "type_state", "last_modified_by", "last_modified_at"])
    credential_version_bump()  # the next request with it is refused in every process
    event_append(event_name="api_key.revoked", actor=actor, api_key_id=api_key.id)
    return api_key


def credential_touch(credential) -> None:
    """Record use (`lastUsedAt`) at most once a minute, and re-hash under the current pepper."""
    now = timezone.now()
    updates = {}
    if credential.last_used_at is None or now - credential.last_used_at > timedelta(seconds=60):
        updates["last_used_at"] = now
    if updates:
        type(credential).objects.filter(pk=credential.pk).update(**updates)
        for name, value in updates.items():
            setattr(credential, name, value)


def credential_rehash(credential, secret: str) -> None:
    """Move a credential to the current pepper after it verified under an older one."""
    pepper_id = current_pepper_id()
    if credential.pepper_id != pepper_id:
        digest = secret_digest(secret, pepper_id)
        type(credential).objects.filter(pk=credential.pk).update(digest=digest, pepper_id=pepper_id)
        # A kept credential (accounts.credential_cache) must not re-hash on every request.
        credential.digest, credential.pepper_id = digest, pepper_id
