"""Access's part of properties, areas and people: the composite writes that build on
apps.properties, apps.areas and apps.accounts (a floor down) in one transaction, adding what
access owns (property and area groups, access lists, memberships). API, admin, demo and
imports create, change and delete places and people through these."""

from django.db import transaction

from apps.access import policies
from apps.access.access_lists import access_list_clean
from apps.access.models import (
    Membership,
    UserGroup,
)
from apps.access.services.groups import (
    _areas_referencing,
    area_group_create,
    area_group_name,
    area_groups_create,
    membership_add,
    membership_remove,
    property_groups_create,
    user_group_delete_with_owner,
    user_group_update,
)
from apps.accounts import services as account_services
from apps.areas import services as area_services
from apps.areas.models import Area
from apps.areas.services import KEEP
from apps.core.exceptions import ApplicationError, ConflictError
from apps.properties import services as property_services
from apps.properties.models import Property

# --- places: access's part of properties and areas ---------------------------------------------
# A property comes with its two property groups, an area with its area group and an access
# list only access can check. The tree and the property record are written by apps.areas and
# apps.properties (one floor down); these build on them in one transaction. Everyone else
# (API, admin, demo, imports) creates, changes and deletes places through these.


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
    """A property and its two property groups, Residents and Staff (events `property.created`,
    `group.created` twice)."""
    prop = property_services.property_create(
        display_name=display_name,
        address=address,
        actor=actor,
        time_zone=time_zone,
        owner_id=owner_id,
        access_manager_ids=access_manager_ids,
        property_id=property_id,
    )
    property_groups_create(prop=prop, actor=actor)
    return prop


def property_delete(*, prop: Property, actor: str) -> None:
    """Soft-delete a property with its groups (event `property.deleted`); refused (409) while
    it still has areas."""

    def groups_go_too(prop: Property) -> None:
        for group in prop.user_groups.alive():
            user_group_delete_with_owner(group=group, actor=actor)

    property_services.property_delete(prop=prop, actor=actor, cascade=groups_go_too)


@transaction.atomic
def area_create(
    *,
    prop,
    display_name: str,
    area_type: str,
    actor: str,
    parent_id=None,
    access_list: list[dict] | None = None,
    area_id=None,
) -> Area:
    """Create an area with its checked access list and its area user group (events
    `area.created`, `group.created`)."""
    area = area_services.area_create(
        prop=prop,
        display_name=display_name,
        area_type=area_type,
        actor=actor,
        parent_id=parent_id,
        access_list=access_list_clean(prop, access_list or []),
        area_id=area_id,
    )
    area_group_create(area=area, actor=actor)
    return area


@transaction.atomic
def areas_create(*, prop, areas: list[dict], actor: str) -> list[Area]:
    """Many top-level areas with their checked access lists and area groups in one transaction
    (the batch variant of `area_create`, for an integration's first poll): each dict is
    `display_name`, `area_type` and an optional `access_list`. Events `area.created` and
    `group.created` for each, as one by one."""
    checked = [{**spec, "access_list": access_list_clean(prop, spec.get("access_list") or [])} for spec in areas]
    made = area_services.areas_create(prop=prop, areas=checked, actor=actor)
    area_groups_create(areas=made, actor=actor)
    return made


@transaction.atomic
def area_update(
    *, area: Area, actor: str, display_name: str | None = None, access_list: list[dict] | None = None, parent_id=KEEP
) -> Area:
    """Rename (the area group's name follows), change the access list, or move (events
    `group.updated`, `area.updated`, `area.moved`)."""
    area = Area.objects.select_for_update().select_related("property").get(pk=area.pk)
    if display_name is not None and display_name != area.display_name:
        _area_group_follow_rename(area, display_name, actor)
    if access_list is not None:
        access_list = access_list_clean(area.property, access_list)
    return area_services.area_update(
        area=area, actor=actor, display_name=display_name, access_list=access_list, parent_id=parent_id
    )


def _area_group_follow_rename(area: Area, new_name: str, actor: str) -> None:
    """The area group keeps "<area> members" in step with the area's name (unless a manager
    gave it a name of its own)."""
    group = UserGroup.objects.filter(area=area).first()
    if group is not None and group.display_name == area_group_name(area.display_name):
        user_group_update(group=group, display_name=area_group_name(new_name), actor=actor)


def area_delete(*, area: Area, actor: str) -> None:
    """Soft-delete an area with its area group (event `area.deleted`). Refused (409, listing
    what blocks it) while it has sub-areas or installed locks, or while another area's access
    list grants this area or its group."""

    def referenced_by(area: Area) -> dict[str, list[str]]:
        group = UserGroup.objects.filter(area=area).first()
        referencing = set(_areas_referencing(property_id=area.property_id, key="areaId", value=area.pk))
        if group is not None:
            referencing |= set(_areas_referencing(property_id=area.property_id, key="userGroupId", value=group.pk))
        referencing.discard(str(area.pk))
        return {"referencedByAreaIds": sorted(referencing)} if referencing else {}

    def group_goes_too(area: Area) -> None:
        group = UserGroup.objects.filter(area=area).first()
        if group is not None:
            user_group_delete_with_owner(group=group, actor=actor)

    area_services.area_delete(area=area, actor=actor, blocked_by=referenced_by, cascade=group_goes_too)


@transaction.atomic
def user_delete(*, user, actor: str):
    """Soft-delete a person (events `group.member_removed` for each group, `property.updated`
    for each property they helped manage, `user.deleted`). Refused (409) while they own a live
    property: transfer it first."""

    def out_of_groups_and_properties(user) -> None:
        owned = [str(i) for i in Property.objects.alive().filter(owner=user).values_list("id", flat=True)]
        if owned:
            raise ConflictError(
                f"user {user.pk} owns properties: {', '.join(owned)}; transfer them first",
                extra={"blockedBy": {"propertyIds": owned}},
            )
        for membership in Membership.objects.filter(user=user).select_related("user_group"):
            membership_remove(group=membership.user_group, user=user, actor=actor)
        property_services.access_manager_remove_everywhere(user=user, actor=actor)

    return account_services.user_delete(user=user, actor=actor, cascade=out_of_groups_and_properties)


@transaction.atomic
def user_create_in_groups(*, email: str, display_name: str, grants, groups, reach, actor: str, **private):
    """A person with their permissions and groups, in one transaction (createUser). A caller
    reaching only some properties (`reach`) must be able to see the person it made: groups or a
    permission of one of its properties; else a 400 on `userGroupIds` and nothing is kept."""
    user = account_services.user_create(email=email, display_name=display_name, grants=grants, actor=actor, **private)
    for group in groups:
        membership_add(group=group, user=user, actor=actor)
    if policies.user_visible(user_id=user.pk, property_ids=reach) is None:
        message = "Name at least one group of your properties, so that you can see the new user."
        raise ApplicationError(f"userGroupIds: {message}", fields={"userGroupIds": [message]})
    return user
