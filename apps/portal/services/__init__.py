"""Writes of the portal, one transaction each with its event rows. What lower apps own goes
through their services: membership and grants (apps.access), people (apps.accounts), devices
(apps.devices), the unit itself (access.services.area_create). By concern:

- units.py: portal settings, unit tokens, units;
- people.py: unit users and guests, passphrases, blocking, contact details;
- common.py: the refusal and event helpers both use.

Callers import from here (`from apps.portal import services`).
"""

from apps.portal.services.common import KEEP
from apps.portal.services.people import (
    guest_end,
    guest_invite,
    unit_user_block,
    unit_user_create,
    unit_user_remove,
    unit_user_unblock,
    unit_user_update,
    unit_users_of_deleted_user,
)
from apps.portal.services.units import portal_settings_update, unit_create, unit_token_rotate

__all__ = [
    "KEEP",
    "portal_settings_update",
    "unit_token_rotate",
    "unit_create",
    "unit_user_create",
    "guest_invite",
    "unit_user_block",
    "unit_user_unblock",
    "guest_end",
    "unit_user_remove",
    "unit_users_of_deleted_user",
    "unit_user_update",
]
