"""Writes of the access model, one transaction each with its event; the access model
recomputes derived access from those events. By concern:

- groups.py: user groups (custom, property, area) and membership;
- schedules.py: schedules;
- grants.py: door grants and blocks;
- places.py: access's part of properties, areas and people (composites over the apps below).

Callers import from here (`from apps.access import services`), as from apps.locks.services.
"""

from apps.access.services.grants import block_create, block_delete, grant_create, grant_revoke, grants_expire
from apps.access.services.groups import (
    PROPERTY_GROUPS,
    area_group_create,
    membership_add,
    membership_remove,
    membership_window_set,
    membership_window_update,
    memberships_add,
    memberships_remove,
    property_groups_create,
    user_group_create,
    user_group_delete,
    user_group_delete_with_owner,
    user_group_update,
)
from apps.access.services.places import (
    area_create,
    area_delete,
    area_update,
    areas_create,
    property_create,
    property_delete,
    user_create_in_groups,
    user_delete,
)
from apps.access.services.schedules import schedule_create, schedule_delete, schedule_update

__all__ = [
    "PROPERTY_GROUPS",
    "area_create",
    "area_delete",
    "area_group_create",
    "area_update",
    "areas_create",
    "block_create",
    "block_delete",
    "grant_create",
    "grant_revoke",
    "grants_expire",
    "membership_add",
    "membership_remove",
    "membership_window_set",
    "membership_window_update",
    "memberships_add",
    "memberships_remove",
    "property_create",
    "property_delete",
    "property_groups_create",
    "schedule_create",
    "schedule_delete",
    "schedule_update",
    "user_create_in_groups",
    "user_delete",
    "user_group_create",
    "user_group_delete",
    "user_group_delete_with_owner",
    "user_group_update",
]
