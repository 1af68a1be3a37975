"""What every portal write shares: refusals naming their field, the event row, the logger, and
the marker for "leave this field as it is"."""

import logging

from apps.core.exceptions import ApplicationError
from apps.events.models import Event
from apps.events.services import event_append
from apps.portal.models import UnitUser

logger = logging.getLogger("keyhouse.portal")

KEEP = object()  # unit_user_update: leave the field as it is


def _refuse(field: str, message: str, status: int = 400):
    raise ApplicationError(f"{field}: {message}", fields={field: [message]}, status=status)


def _event(name: str, unit_user: UnitUser, actor: str, **payload) -> Event:
    return event_append(
        event_name=name,
        actor=actor,
        property_id=unit_user.property_id,
        area_id=unit_user.area_id,
        user_id=unit_user.user_id,
        payload={"unitUserId": str(unit_user.pk), **payload},
    )
