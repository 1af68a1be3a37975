from django.urls import path

from apps.integrations import api

api_urlpatterns = [
    path("integrations/accounts", api.IntegrationAccountListCreateApi.as_view()),
    path("integrations/accounts/<uuid:accountId>", api.IntegrationAccountDetailApi.as_view()),
    path("integrations/accounts/<uuid:accountId>/poll", api.IntegrationAccountPollApi.as_view()),
    path("integrations/accounts/<uuid:accountId>/runs", api.IntegrationSyncRunListApi.as_view()),
    path("integrations/accounts/<uuid:accountId>/pushes", api.IntegrationPushListApi.as_view()),
    path("integrations/accounts/<uuid:accountId>/records", api.IntegrationRecordListApi.as_view()),
    path("integrations/accounts/<uuid:accountId>/records/<uuid:recordId>/reassign", api.LocktFobReassignApi.as_view()),
    path("integrations/accounts/<uuid:accountId>/marks", api.LocktMarkListCreateApi.as_view()),
    path("integrations/accounts/<uuid:accountId>/marks/<uuid:markId>", api.LocktMarkDetailApi.as_view()),
]
