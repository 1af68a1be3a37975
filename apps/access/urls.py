from django.urls import path

from apps.access import api

api_urlpatterns = [
    path("properties/<uuid:propertyId>/groups", api.UserGroupListCreateApi.as_view()),
    path("properties/<uuid:propertyId>/groups/<uuid:userGroupId>", api.UserGroupDetailApi.as_view()),
    path("properties/<uuid:propertyId>/groups/<uuid:userGroupId>/users", api.UserGroupUsersApi.as_view()),
    path(
        "properties/<uuid:propertyId>/groups/<uuid:userGroupId>/users/<uuid:userId>", api.UserGroupMemberApi.as_view()
    ),
    path("users/<uuid:userId>/groups", api.GroupsForUserApi.as_view()),
    path("users/<uuid:userId>/properties/<uuid:propertyId>/groups", api.GroupsForUserAtPropertyApi.as_view()),
]
