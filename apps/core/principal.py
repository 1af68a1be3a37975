"""Who is calling: an API key, a signed-in user (and later a lock or a device).

Pure: no ORM. The authentication class builds a `Principal` from the stored credential;
permission checks and scoped selectors ask it questions. A `Grant` is the spec's
UserPermission {permission, propertyId?, userId?}: no propertyId = every property.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

ALL = None  # property_ids_for(): no restriction


@dataclass(frozen=True)
class Grant:
    permission: str
    property_id: UUID | None = None
    user_id: UUID | None = None

    def covers(self, other: "Grant") -> bool:
        """True when holding self is at least as broad as holding `other` (no escalation)."""
        return (
            self.permission == other.permission
            and (self.property_id is None or self.property_id == other.property_id)
            and (self.user_id is None or self.user_id == other.user_id)
        )


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `label` is what `lastModifiedBy` and events record."""

    kind: str  # "api_key" | "user" | "lock" | "device"
    id: UUID
    grants: tuple[Grant, ...]
    label: str
    user_id: UUID | None = None
    # The properties `me` reaches: a frozenset, or a function that reads them on first need
    # (a person's own syncs and reads never ask, so their requests skip those queries).
    member_properties: frozenset | Callable[[], frozenset] = field(default_factory=frozenset)

    is_authenticated = True
    is_anonymous = False
    is_staff = False  # DRF/spectacular sometimes ask; staff use sessions, not the API

    @property
    def pk(self):
        return self.id

    @property
    def member_property_ids(self) -> frozenset:
        if callable(self.member_properties):  # read once, then kept (frozen: set it under the hood)
            object.__setattr__(self, "member_properties", frozenset(self.member_properties()))
        return self.member_properties

    def has_any(self, permissions: frozenset[str]) -> bool:
        """Holds at least one of `permissions`, at any scope."""
        return any(grant.permission in permissions for grant in self.grants)

    def allows(
        self, permissions: frozenset[str], *, property_id: UUID | None = None, user_id: UUID | None = None
    ) -> bool:
        """Holds one of `permissions` for this property/user context.

        A property-scoped grant matches only that property, a user-scoped grant only that
        user. `me` always means the caller's own user: it matches only that user, and on a
        property context only the properties the user belongs to.
        """
        for grant in self.grants:
            if grant.permission not in permissions:
                continue
            if grant.permission == "me":
                matched = (user_id is None or grant.user_id == user_id) and (
                    property_id is None or property_id in self.member_property_ids
                )
            else:
                matched = (grant.property_id is None or grant.property_id == property_id) and (
                    grant.user_id is None or grant.user_id == user_id
                )
            if matched:
                return True
        return False

    def property_ids_for(self, permissions: frozenset[str]):
        """The properties these permissions reach: `ALL`, or a frozenset of ids (maybe empty)."""
        ids: set = set()
        for grant in self.grants:
            if grant.permission not in permissions:
                continue
            if grant.permission == "me":
                ids |= self.member_property_ids
            elif grant.property_id is None and grant.user_id is None:
                return ALL
            elif grant.property_id is not None:
                ids.add(grant.property_id)
        return frozenset(ids)
