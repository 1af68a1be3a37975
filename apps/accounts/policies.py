"""Rules about what a caller's permissions let it do with permissions: who sees a person's
private part, and who may confer which permission. Used by the API, the admin and imports;
reads the Principal only (apps/core/principal.py), never the database."""

from apps.core.exceptions import Forbidden
from apps.core.operations import GRANTABLE_PERMISSIONS, MANAGE_ACCESS, ME, OWNER
from apps.core.principal import Grant, Principal

MANAGERS = frozenset({OWNER, MANAGE_ACCESS})


def can_see_private(principal: Principal, property_id=None, user_id=None) -> bool:
    """The private part goes to the person themself and to owners / access managers."""
    if user_id is not None and principal.user_id == user_id:
        return True
    return principal.allows(MANAGERS, property_id=property_id)


def may_confer(principal: Principal, grant: Grant) -> bool:
    """The caller holds `grant` itself, or is an owner at least as broad (an owner confers
    every grantable permission within its own scope). `me` confers nothing."""
    for held in principal.grants:
        if held.permission == ME:
            continue
        if held.permission == OWNER and grant.permission in GRANTABLE_PERMISSIONS:
            held = Grant(grant.permission, held.property_id, held.user_id)
        if held.covers(grant):
            return True
    return False


def check_may_confer(principal: Principal, grants: list[Grant]) -> None:
    """403 unless the caller may confer every one of `grants`; `me` is never conferred."""
    if any(g.permission == ME for g in grants):
        raise Forbidden("`me` is implicit for every user and cannot be granted")
    for grant in grants:
        if not may_confer(principal, grant):
            raise Forbidden(f"you cannot grant {grant.permission} beyond your own permissions")
