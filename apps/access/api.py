"""DoorLock operations 11–20: user groups of a property and their members."""

from rest_framework.response import Response

from apps.access import selectors, services
from apps.access.filters import UserGroupFilterSet
from apps.access.serializers import (
    CreateUserGroupSerializer,
    MembershipSerializer,
    MembershipWindowInputSerializer,
    UserGroupSerializer,
    UserGroupWritableSerializer,
)
from apps.accounts.api_users import user_in_scope
from apps.accounts.filters import UserFilterSet
from apps.accounts.policies import can_see_private
from apps.accounts.selectors import user_list
from apps.accounts.serializers import UserSerializer
from apps.core.api.permissions import operation
from apps.core.api.schema import filter_parameters
from apps.core.api.views import ApiView, or_404
from apps.core.principal import ALL
from apps.properties.api import property_exists_or_404, property_or_404

TAGS = ["user groups"]
GROUP_FILTERS = filter_parameters(UserGroupFilterSet)
USER_FILTERS = filter_parameters(UserFilterSet)


def group_or_404(property_id, user_group_id):
    return or_404(selectors.user_group_get(property_id=property_id, user_group_id=user_group_id))


class UserGroupListCreateApi(ApiView):
    page_items_key = "groups"

    @operation("listUserGroups", responses=UserGroupSerializer(many=True), parameters=GROUP_FILTERS, tags=TAGS)
    def get(self, request, propertyId):
        property_exists_or_404(propertyId)
        groups = self.filtered(UserGroupFilterSet, selectors.user_group_list(property_id=propertyId))
        return self.paginated(groups, UserGroupSerializer)

    @operation("createUserGroup", request=CreateUserGroupSerializer, responses=UserGroupSerializer, tags=TAGS)
    def post(self, request, propertyId):
        prop = property_or_404(propertyId)
        body = self.body(CreateUserGroupSerializer)
        name = body.get("displayName") or f"New {body['groupType']} group"
        group = services.user_group_create(
            prop=prop, display_name=name, group_type=body["groupType"], actor=request.user.label
        )
        return Response(UserGroupSerializer(group_or_404(propertyId, group.pk)).data)


class UserGroupDetailApi(ApiView):
    @operation("getUserGroup", responses=UserGroupSerializer, tags=TAGS)
    def get(self, request, propertyId, userGroupId):
        return Response(UserGroupSerializer(group_or_404(propertyId, userGroupId)).data)

    @operation("updateUserGroup", request=UserGroupWritableSerializer, responses=UserGroupSerializer, tags=TAGS)
    def put(self, request, propertyId, userGroupId):
        group = group_or_404(propertyId, userGroupId)
        body = self.body(UserGroupWritableSerializer)
        services.user_group_update(group=group, display_name=body["displayName"], actor=request.user.label)
        return Response(UserGroupSerializer(group_or_404(propertyId, userGroupId)).data)

    @operation("deleteUserGroup", responses=UserGroupSerializer, tags=TAGS)
    def delete(self, request, propertyId, userGroupId):
        group = services.user_group_delete(group=group_or_404(propertyId, userGroupId), actor=request.user.label)
        return Response(UserGroupSerializer(group).data)


class UserGroupUsersApi(ApiView):
    page_items_key = "users"

    @operation("listUsersForGroup", responses=UserSerializer(many=True), parameters=USER_FILTERS, tags=TAGS)
    def get(self, request, propertyId, userGroupId):
        group = group_or_404(propertyId, userGroupId)
        users = self.filtered(UserFilterSet, user_list().filter(memberships__user_group=group))
        return self.paginated(users, UserSerializer, show_private=can_see_private(request.user, propertyId))


def membership_answer(group, user_id) -> Response:
    membership = or_404(selectors.membership_get(group=group, user_id=user_id))
    lockt_owned = selectors.membership_lockt_owned(group=group, user_id=user_id)
    return Response(MembershipSerializer(membership, context={"lockt_owned": lockt_owned}).data)


class UserGroupMemberApi(ApiView):
    @operation("getUserGroupMembership", responses=MembershipSerializer, tags=TAGS)
    def get(self, request, propertyId, userGroupId, userId):
        group = group_or_404(propertyId, userGroupId)
        user, _ = user_in_scope(self, userId)
        return membership_answer(group, user.pk)

    @operation(
        "updateUserGroupMembership",
        request=MembershipWindowInputSerializer,
        responses=MembershipSerializer,
        errors={409: "the membership's window comes from Lockt (change it there)"},
        tags=TAGS,
    )
    def put(self, request, propertyId, userGroupId, userId):
        group = group_or_404(propertyId, userGroupId)
        user, _ = user_in_scope(self, userId)
        body = self.body(MembershipWindowInputSerializer)
        or_404(selectors.membership_get(group=group, user_id=user.pk))
        services.membership_window_update(
            group=group,
            user=user,
            valid_from=body.get("validFrom"),
            valid_until=body.get("validUntil"),
            actor=request.user.label,
        )
        return membership_answer(group, user.pk)

    @operation(
        "addUserToUserGroup",
        request=MembershipWindowInputSerializer,
        responses=None,
        errors={409: "the person is already a member whose window comes from Lockt"},
        tags=TAGS,
    )
    def post(self, request, propertyId, userGroupId, userId):
        group = group_or_404(propertyId, userGroupId)
        user, _ = user_in_scope(self, userId)  # only people the caller can already see
        body = self.body(MembershipWindowInputSerializer)
        services.membership_add(
            group=group,
            user=user,
            actor=request.user.label,
            valid_from=body.get("validFrom"),
            valid_until=body.get("validUntil"),
        )
        return Response({})

    @operation("removeUserFromUserGroup", request=None, responses=None, tags=TAGS)
    def delete(self, request, propertyId, userGroupId, userId):
        group = group_or_404(propertyId, userGroupId)
        user, _ = user_in_scope(self, userId)
        services.membership_remove(group=group, user=user, actor=request.user.label)
        return Response({})


class GroupsForUserApi(ApiView):
    page_items_key = "groups"

    @operation("listGroupsForUser", responses=UserGroupSerializer(many=True), parameters=GROUP_FILTERS, tags=TAGS)
    def get(self, request, userId):
        user, property_ids = user_in_scope(self, userId)
        groups = selectors.user_groups_of_user(user_id=user.pk, property_ids=property_ids)
        return self.paginated(self.filtered(UserGroupFilterSet, groups), UserGroupSerializer)


class GroupsForUserAtPropertyApi(ApiView):
    page_items_key = "groups"

    @operation(
        "listGroupsForUserAtProperty", responses=UserGroupSerializer(many=True), parameters=GROUP_FILTERS, tags=TAGS
    )
    def get(self, request, userId, propertyId):
        property_exists_or_404(propertyId)
        user, _ = user_in_scope(self, userId, property_ids=frozenset({propertyId}))
        groups = selectors.user_groups_of_user(user_id=user.pk, property_id=propertyId, property_ids=ALL)
        return self.paginated(self.filtered(UserGroupFilterSet, groups), UserGroupSerializer)
