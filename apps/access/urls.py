from django.urls import path

from apps.access import api, api_access

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

api_urlpatterns += [
    path("properties/<uuid:propertyId>/schedules", api_access.ScheduleListCreateApi.as_view()),
    path("properties/<uuid:propertyId>/schedules/<uuid:scheduleId>", api_access.ScheduleDetailApi.as_view()),
    path("properties/<uuid:propertyId>/schedules/<uuid:scheduleId>/export", api_access.ScheduleExportApi.as_view()),
    path("properties/<uuid:propertyId>/grants", api_access.GrantListCreateApi.as_view()),
    path("properties/<uuid:propertyId>/grants/<uuid:grantId>", api_access.GrantDetailApi.as_view()),
    path("properties/<uuid:propertyId>/blocks", api_access.BlockListApi.as_view()),
    path("properties/<uuid:propertyId>/blocks/<uuid:userId>", api_access.BlockDetailApi.as_view()),
    path("properties/<uuid:propertyId>/locks/<uuid:lockId>/access", api_access.LockAccessApi.as_view()),
    path("properties/<uuid:propertyId>/users/<uuid:userId>/access", api_access.UserAccessApi.as_view()),
    path("properties/<uuid:propertyId>/access/explain", api_access.ExplainApi.as_view()),
    path("properties/<uuid:propertyId>/access/what-if", api_access.WhatIfApi.as_view()),
]
