"""Reads of key material: the active key of an owner, lookups by protocol kid."""

from uuid import UUID

from django.db.models import QuerySet

from apps.core.choices import EntityTypeState
from apps.keys.models import Key


def key_active(*, owner_type: str, owner_id: UUID, purpose: str, key_mode: str) -> Key | None:
    """The one active key of an owner for a purpose and mode, or None."""
    return Key.objects.filter(
        owner_type=owner_type, owner_id=owner_id, purpose=purpose, key_mode=key_mode, type_state=EntityTypeState.ACTIVE
    ).first()


def key_get_by_kid(*, kid: str) -> Key | None:
    """The key a `signatures` map entry names (any state: old signatures name rotated keys)."""
    return Key.objects.filter(kid=kid).first()


def key_list_for_owner(*, owner_type: str, owner_id: UUID) -> QuerySet[Key]:
    """Every key of one owner, newest first (the active ones and their rotated predecessors)."""
    return Key.objects.filter(owner_type=owner_type, owner_id=owner_id).order_by("-id")
