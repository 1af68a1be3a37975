from django.urls import path

from apps.locks import api

api_urlpatterns = [
    path("locks", api.LockListCreateApi.as_view()),
    path("locks/<uuid:lockId>", api.LockDetailApi.as_view()),
    path("locks/<uuid:lockId>/uninstall", api.LockUninstallApi.as_view()),
    path("locks/<uuid:lockId>/sync", api.LockSyncApi.as_view()),
    path("locks/<uuid:lockId>/logs", api.LockAccessLogListApi.as_view()),
    path("locks/<uuid:lockId>/health", api.LockHealthApi.as_view()),
    path("properties/<uuid:propertyId>/lock-health", api.PropertyLockHealthApi.as_view()),
    path("properties/<uuid:propertyId>/areas/<uuid:areaId>/install/<uuid:lockId>", api.LockInstallApi.as_view()),
    path("events/<uuid:eventId>/acknowledgements", api.EventAcknowledgementsApi.as_view()),
]
