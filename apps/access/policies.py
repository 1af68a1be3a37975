"""Rules of the access model that services, the API, the admin and imports all apply (reads,
never writes): whom a caller reaches and may name, and who may give or take back a door grant.
(What an access list may name: access_lists.py, which selectors use too.)

Reach (docs/API.md "Permissions and scope"): a property-scoped caller sees and names the
people tied to its properties: in one of their groups, holding a permission scoped to one,
holding an unrevoked door grant or a block at one, owning or managing one. A scoped caller
names only people it already reaches; otherwise a key for property A could act on, or learn
the name of, a person who belongs only to property B, and the answer for an id of B's would
differ from the answer for an id that does not exist.
"""

from django.db.models import Q, QuerySet

from apps.access.models import AccessGrant, AccessLevel, Membership
from apps.access.selectors import grant_list, grants_held
from apps.accounts.models import PermissionGrant, User
from apps.accounts.policies import MANAGERS, check_may_confer, may_confer
from apps.accounts.selectors import user_grants, user_list
from apps.core.exceptions import ApplicationError, Forbidden
from apps.core.operations import ME, SUPPORT
from apps.core.principal import ALL, Grant, Principal
from apps.properties.models import Property

# --- reach ------------------------------------------------------------------------------------


def user_tied_outside(*, user_id, property_ids) -> bool:
    """True when the user is in a group of, holds a grant on, owns or manages a live property
    outside `property_ids`, or holds a grant on no property (which reaches every property)."""
    outside = Property.objects.alive().exclude(pk__in=property_ids)
    return (
        Membership.objects.filter(user_id=user_id, user_group__property__in=outside)
        .exclude(user_group__type_state="deleted")
        .exists()
        or PermissionGrant.objects.filter(user_id=user_id).exclude(property_id__in=property_ids).exists()
        or outside.filter(Q(owner_id=user_id) | Q(access_managers=user_id)).exists()
    )


def _reached_by(users: QuerySet[User], property_ids) -> QuerySet[User]:
    """Users a caller reaching `property_ids` may see: in one of their groups, holding a
    permission scoped to one, holding an unrevoked door-access grant or a block at one (a guest,
    someone a manager of that property shut out), owning or managing one."""
    if property_ids is ALL:
        return users
    return users.filter(
        Q(memberships__user_group__property_id__in=property_ids, memberships__user_group__type_state="active")
        | Q(grants__property_id__in=property_ids)
        | Q(access_grants__property_id__in=property_ids, access_grants__revoked_at__isnull=True)
        | Q(access_blocks__property_id__in=property_ids)
        | Q(owned_properties__in=property_ids)
        | Q(managed_properties__in=property_ids)
    ).distinct()


def user_visible(*, user_id, property_ids) -> User | None:
    """The live user, if a caller reaching `property_ids` may see them (ALL = anyone)."""
    return _reached_by(user_list().filter(pk=user_id), property_ids).first()


def user_ids_visible(*, user_ids, property_ids) -> set:
    """Which of `user_ids` are live users a caller reaching `property_ids` may see."""
    users = _reached_by(User.objects.alive().filter(pk__in=list(user_ids)), property_ids)
    return set(users.values_list("pk", flat=True))


def user_named(principal: Principal, permissions: frozenset[str], user_id) -> User | None:
    """The live user `user_id` if a caller holding `permissions` may name them, else None
    (whether the person belongs elsewhere or does not exist at all).

    - themself (`me`), and anyone for an unscoped grant or a grant scoped to that person;
    - otherwise the people reached through the properties the caller's grants cover (for
      `me`, the properties the person belongs to): in one of their groups, holding a grant
      or a block there, owning or managing one (selectors.user_visible).
    """
    if user_id is None:
        return None
    if principal.allows(permissions, user_id=user_id):
        return user_visible(user_id=user_id, property_ids=ALL)
    return user_visible(user_id=user_id, property_ids=principal.property_ids_for(permissions))


def user_reach(principal: Principal, permissions: frozenset[str], user_id, *, property_ids=None):
    """(user, the property ids reaching them) if a caller holding `permissions` sees the live
    person `user_id`, else None. Themself (`me`) and unscoped grants reach everyone (ALL);
    property-scoped grants reach the people of their properties (within `property_ids` when
    given). Unlike user_named, `me` reaches no one else here: a person reads only themself."""
    if principal.allows(permissions, user_id=user_id):
        user = user_visible(user_id=user_id, property_ids=ALL)
        return (user, ALL) if user is not None else None
    reach = principal.property_ids_for(permissions - {ME})
    if property_ids is not None:
        reach = property_ids if reach is ALL else reach & property_ids
    user = user_visible(user_id=user_id, property_ids=reach)
    return (user, reach) if user is not None else None


def check_may_administer(principal: Principal, user, reach) -> None:
    """403 unless the caller may change this person's account (sign-in email, private data,
    permissions) or delete it: themself, or a manager whose permissions cover everything the
    person holds and, when property-scoped (`reach`), every property the person is tied to.
    Otherwise a manager of one building could take over a wider account (docs/API.md)."""
    if principal.user_id == user.pk:
        return
    if user.is_staff:
        raise Forbidden("staff accounts are changed in the staff admin or by the person themself")
    for grant in user_grants(user_id=user.pk):
        if not may_confer(principal, grant):
            raise Forbidden(f"this user holds {grant.permission} beyond your permissions")
    if reach is not ALL and user_tied_outside(user_id=user.pk, property_ids=reach):
        raise Forbidden(
            "this user also belongs to a property beyond your permissions; "
            "a manager of all of them (or the person themself) must change the account"
        )


def check_permission_grants(principal: Principal, permissions: frozenset[str], grants: list[Grant]) -> None:
    """Permissions a caller gives a person: each one it may confer (403), and a `userId` only
    for someone it may name (a 400 like an id that does not exist)."""
    check_may_confer(principal, grants)
    strangers = {
        f"userPermissions[{index}].userId": ["No such user."]
        for index, grant in enumerate(grants)
        if grant.user_id and user_named(principal, permissions - {ME}, grant.user_id) is None
    }
    if strangers:
        raise ApplicationError("invalid permissions", fields=strangers)


# --- door grants: who may give and take back (docs/ACCESS.md "Grants and access levels") -------

# Which levels a person holding a level on a lock or area may give others there.
MAY_GRANT = {
    AccessLevel.OWNER: {AccessLevel.ADMIN, AccessLevel.USER, AccessLevel.GUEST},
    AccessLevel.ADMIN: {AccessLevel.GUEST},
    AccessLevel.USER: set(),
    AccessLevel.GUEST: set(),
}
READERS = MANAGERS | {SUPPORT}  # who reads a property's access model (grants, derived access)


def grants_visible(principal: Principal, *, property_id, active_only: bool = False) -> QuerySet[AccessGrant]:
    """A property's door grants as this caller may see them: managers and support all of
    them, a person (`me`) the grants they hold or gave."""
    grants = grant_list(property_id=property_id, active_only=active_only)
    if not principal.allows(READERS, property_id=property_id):
        grants = grants.filter(Q(user_id=principal.user_id) | Q(granted_by=principal.label))
    return grants


def check_may_grant(principal: Principal, *, prop, lock, area, access_level: str) -> None:
    """403 unless the caller may give `access_level` on this lock or area: managers any level;
    a person only what the level they hold on that exact lock or area allows (MAY_GRANT)."""
    if principal.allows(MANAGERS, property_id=prop.pk):
        return
    held = grants_held(user_id=principal.user_id, lock_id=lock.pk if lock else None, area_id=area.pk if area else None)
    allowed = set().union(*(MAY_GRANT[level] for level in held)) if held else set()
    if access_level not in allowed:
        raise Forbidden(
            f"you may grant {', '.join(sorted(allowed)) or 'nothing'} on this "
            f"{'lock' if lock else 'area'}, not {access_level}"
        )


def check_may_revoke(principal: Principal, *, grant: AccessGrant) -> None:
    """403 unless the caller may revoke `grant`: managers, whoever granted it, its holder, and
    an OWNER of the same lock or area."""
    if principal.allows(MANAGERS, property_id=grant.property_id):
        return
    mine = grant.user_id == principal.user_id or grant.granted_by == principal.label
    if not (mine or "OWNER" in grants_held(user_id=principal.user_id, lock_id=grant.lock_id, area_id=grant.area_id)):
        raise Forbidden("only managers, the grantor, the holder or an OWNER of the target may revoke")
