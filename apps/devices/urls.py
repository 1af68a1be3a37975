from django.urls import path

from apps.devices import api

api_urlpatterns = [
    path("users/<uuid:userId>/devices", api.UserDeviceListCreateApi.as_view()),
    path("users/<uuid:userId>/devices/<uuid:userDeviceId>", api.UserDeviceDetailApi.as_view()),
    path("users/<uuid:userId>/devices/<uuid:userDeviceId>/sync", api.UserDeviceSyncApi.as_view()),
]
