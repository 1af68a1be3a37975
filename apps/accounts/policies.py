"""Whom a caller may name: the user-scope rule that every API, admin and import path applies
(docs/API.md "Permissions and scope").

A scoped caller names only people it already reaches. Otherwise a key for property A could
act on, or learn the name of, a person who belongs only to property B, and the answer for
an id of B's would differ from the answer for an id that does not exist.
"""

from apps.accounts import selectors
from apps.accounts.models import User
from apps.core.api.principal import ALL, Principal


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
        return selectors.user_visible(user_id=user_id, property_ids=ALL)
    return selectors.user_visible(user_id=user_id, property_ids=principal.property_ids_for(permissions))
