"""Writes for properties. Each is one transaction with its event."""

from collections.abc import Callable

from django.db import transaction

from apps.accounts.models import User
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.services import event_append
from apps.properties.models import Property


def _users(ids, field: str) -> list[User]:
    ids = list(dict.fromkeys(ids))
    users = list(User.objects.alive().filter(pk__in=ids))
    missing = sorted(str(i) for i in set(ids) - {u.pk for u in users})
    if missing:
        raise ApplicationError(
            f"{field}: unknown user(s) {', '.join(missing)}",
            fields={field: [f"Unknown user(s): {', '.join(missing)}."]},
        )
    return users


@transaction.atomic
def property_create(
    *,
    display_name: str,
    address: dict,
    actor: str,
    time_zone: str = "UTC",
    owner_id=None,
    access_manager_ids=(),
    property_id=None,
) -> Property:
    """Create a property (event `property.created`); access.services.property_create adds its
    two property groups, Residents and Staff: call that one."""
    owner = _users([owner_id], "ownerId")[0] if owner_id else None
    prop = Property(
        display_name=display_name,
        address=address,
        time_zone=time_zone,
        owner=owner,
        last_modified_by=actor,
        **({"id": property_id} if property_id else {}),
    )
    prop.full_clean()
    prop.save()
    prop.access_managers.set(_users(access_manager_ids, "accessManagerIds"))
    event_append(event_name="property.created", actor=actor, property_id=prop.id, payload={"displayName": display_name})
    return prop


@transaction.atomic
def property_update(
    *,
    prop: Property,
    actor: str,
    display_name: str,
    address: dict,
    access_manager_ids,
    time_zone: str | None = None,
    owner_id=None,
) -> Property:
    """Replace the writable fields (spec PropertyWritable) (event `property.updated`)."""
    prop = Property.objects.select_for_update().get(pk=prop.pk)
    before = (
        prop.display_name,
        prop.address,
        prop.time_zone,
        prop.owner_id,
        sorted(prop.access_managers.values_list("id", flat=True)),
    )
    prop.display_name, prop.address = display_name, address
    if time_zone is not None:
        prop.time_zone = time_zone
    if owner_id is not None:
        prop.owner = _users([owner_id], "ownerId")[0]
    managers = _users(access_manager_ids, "accessManagerIds")
    after = (prop.display_name, prop.address, prop.time_zone, prop.owner_id, sorted(u.pk for u in managers))
    if before == after:
        return prop
    prop.last_modified_by = actor
    prop.full_clean()
    prop.save()
    prop.access_managers.set(managers)
    changed = [
        name
        for name, a, b in zip(
            ("displayName", "address", "timeZone", "ownerId", "accessManagerIds"), before, after, strict=True
        )
        if a != b
    ]
    event_append(event_name="property.updated", actor=actor, property_id=prop.id, payload={"changed": changed})
    return prop


def access_manager_remove_everywhere(*, user, actor: str) -> None:
    """Take a person off every live property's access managers (event `property.updated`
    each), inside the transaction deleting them: else a property keeps listing a deleted
    person, and a GET→PUT round trip of it fails."""
    for prop in Property.objects.alive().filter(access_managers=user):
        prop.access_managers.remove(user)
        prop.last_modified_by = actor
        prop.save(update_fields=["last_modified_by", "last_modified_at"])
        event_append(
            event_name="property.updated", actor=actor, property_id=prop.pk, payload={"changed": ["accessManagerIds"]}
        )


@transaction.atomic
def property_delete(*, prop: Property, actor: str, cascade: Callable[[Property], None] | None = None) -> None:
    """Soft-delete a property (event `property.deleted`); `cascade(prop)` removes what goes with
    it in this transaction (access.services.property_delete passes its groups).

    Refused (409) while it still has areas: delete or move those first, so no lock or
    person silently loses a place.
    """
    prop = Property.objects.select_for_update().get(pk=prop.pk)
    area_ids = list(prop.areas.alive().values_list("id", flat=True)[:51])
    if area_ids:
        shown = ", ".join(str(i) for i in area_ids[:50])
        raise ConflictError(
            f"property {prop.id} still has areas: {shown}{' …' if len(area_ids) > 50 else ''}",
            extra={"blockedBy": {"areaIds": [str(i) for i in area_ids[:50]]}},
        )
    if cascade is not None:
        cascade(prop)
    prop.type_state = EntityTypeState.DELETED
    prop.last_modified_by = actor
    prop.save(update_fields=["type_state", "last_modified_by", "last_modified_at"])
    event_append(event_name="property.deleted", actor=actor, property_id=prop.id)
