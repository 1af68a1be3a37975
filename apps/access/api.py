"""DoorLock operations 11–20: user groups of a property and their members."""

from rest_framework.response import Response

from apps.access import selectors, services
from apps.access.filters import UserGroupFilterSet
from apps.access.serializers import CreateUserGroupSerializer, UserGroupSerializer, UserGroupWritableSerializer
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


class UserGroupMemberApi(ApiView):
    @operation("addUserToUserGroup", request=None, responses=None, tags=TAGS)
    def post(self, request, propertyId, userGroupId, userId):
        group = group_or_404(propertyId, userGroupId)
        user, _ = user_in_scope(self, userId)  # only people the caller can already see
        services.membership_add(group=group, user=user, actor=request.user.label)
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
