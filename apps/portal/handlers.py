"""Event handlers of the portal: a deleted person leaves their unit."""

from apps.core.actors import SYSTEM
from apps.events.registry import event_handler
from apps.portal.services import unit_users_of_deleted_user


def user_deleted(event) -> None:
    """`user.deleted`: their unit rows are removed (idempotent), so the portal no longer lists
    them and their passphrase leaves the Wi-Fi export."""
    unit_users_of_deleted_user(user_id=event.user_id, actor=SYSTEM)


def register() -> None:
    event_handler("user.deleted")(user_deleted)
