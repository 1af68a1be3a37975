"""Who is calling: an API key, a signed-in user (and later a lock or a device).

Pure: no ORM. The authentication class builds a `Principal` from the stored credential;
permission checks and scoped selectors ask it questions. A `Grant` is the spec's
UserPermission {permission, propertyId?, userId?}: no propertyId = every property.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
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


class LazyGrants(Sequence):
    """A caller's grants, `head` known now and the rest read on first need: iterating past the
    head (or asking its length, an item, equality) calls `load` once. A person's own requests
    (`me`, the head) then skip reading their stored grants (a phone's sync never asks)."""

    __slots__ = ("_head", "_load", "_all")

    def __init__(self, head: tuple["Grant", ...], load: Callable[[], Iterable["Grant"]]):
        self._head, self._load, self._all = tuple(head), load, None

    def _grants(self) -> tuple["Grant", ...]:
        if self._all is None:
            self._all = self._head + tuple(self._load())
        return self._all

    def __iter__(self) -> Iterator["Grant"]:
        yield from self._head
        yield from self._grants()[len(self._head) :]

    def __len__(self) -> int:
        return len(self._grants())

    def __getitem__(self, index):
        return self._grants()[index]

    def __eq__(self, other) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, (tuple, LazyGrants)) else other)

    def __hash__(self) -> int:
        return hash(self._grants())

    def __repr__(self) -> str:
        return f"LazyGrants({self._grants()!r})" if self._all is not None else f"LazyGrants({self._head!r}, …)"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `label` is what `lastModifiedBy` and events record."""

    kind: str  # "api_key" | "user" | "lock" | "device"
    id: UUID
    grants: tuple[Grant, ...] | LazyGrants
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
