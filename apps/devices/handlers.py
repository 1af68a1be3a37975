"""Event handlers of the devices app: a deleted person's phones are deprovisioned."""

from apps.core.actors import SYSTEM
from apps.devices.services import user_devices_deprovision
from apps.events.registry import event_handler, event_source_register


def user_deleted(event) -> None:
    """`user.deleted`: deprovision their devices (idempotent), so their keys leave every lock."""

    user_devices_deprovision(user_id=event.user_id, actor=SYSTEM)


def register() -> None:
    event_source_register("device")
    event_handler("user.deleted")(user_deleted)
