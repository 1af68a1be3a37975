from django.urls import path

from apps.firmware import api

# `firmware/unassign` first: "unassign" would otherwise match `firmware/<version>`.
api_urlpatterns = [
    path("firmware/unassign", api.FirmwareUnassignApi.as_view()),
    path("firmware/<str:version>", api.FirmwareDetailApi.as_view()),
    path("firmware/<str:version>/upload", api.FirmwareUploadApi.as_view()),
    path("firmware/<str:version>/download", api.FirmwareDownloadApi.as_view()),
    path("firmware/<str:version>/assign", api.FirmwareAssignApi.as_view()),
]
