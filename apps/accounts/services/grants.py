"""Permission grants held by a user or an API key: what may be given, and replacing them."""

import logging

from apps.accounts.models import PermissionGrant, User
from apps.core.exceptions import ApplicationError
from apps.core.operations import ME
from apps.core.ports import Port
from apps.core.principal import Grant

logger = logging.getLogger("keyhouse.accounts")

live_property_ids = Port("accounts.live_property_ids", "property ids → the set of those naming a live property")


def grants_refusals(grants: list[Grant]) -> dict[tuple[int, str], str]:
    """Why each grant cannot be held, keyed by (index, UserPermission member): `me` (implicit
    for every person, never granted: a credential holding it for someone acts as them), and a
    `propertyId` or `userId` naming no live property or user. The API and the admin show these
    on the offending row; grants_replace refuses them."""
    property_ids = {g.property_id for g in grants if g.property_id}
    user_ids = {g.user_id for g in grants if g.user_id}
    live_properties = live_property_ids(property_ids) if property_ids else set()
    live_users = set(User.objects.alive().filter(pk__in=user_ids).values_list("pk", flat=True))
    refusals = {}
    for index, grant in enumerate(grants):
        if grant.permission == ME:
            refusals[index, "permission"] = "`me` is implicit for every user and cannot be granted."
        if grant.property_id and grant.property_id not in live_properties:
            refusals[index, "propertyId"] = "No such property."
        if grant.user_id and grant.user_id not in live_users:
            refusals[index, "userId"] = "No such user."
    return refusals


def _grants_replace(*, holder: dict, grants: list[Grant], field: str) -> None:
    """Replace the holder's grants; 400 naming `field[i].member` for any grant_refusals."""
    refusals = grants_refusals(grants)
    if refusals:
        raise ApplicationError(
            "invalid permissions",
            fields={f"{field}[{index}].{member}": [reason] for (index, member), reason in refusals.items()},
        )
    PermissionGrant.objects.filter(**holder).delete()
    rows = [
        PermissionGrant(permission=g.permission, property_id=g.property_id, scope_user_id=g.user_id, **holder)
        for g in dict.fromkeys(grants)  # drop exact duplicates, keep order
    ]
    for row in rows:
        row.full_clean()
    PermissionGrant.objects.bulk_create(rows)
