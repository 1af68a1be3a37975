"""Portal routes: its API (mounted at /api/portal/v1/), the staff export (in /api/v1/), pages (/portal/)."""

from django.urls import path

from apps.portal import api

_units = "residents/properties/<uuid:propertyId>/units"

portal_api_urlpatterns = [
    path(f"{_units}/users/query", api.UnitUserQueryApi.as_view()),
    path(f"{_units}/users/<uuid:userId>", api.UnitUserDetailApi.as_view()),
    path(f"{_units}/users/<uuid:userId>/devices", api.UnitUserDeviceListApi.as_view()),
    path(f"{_units}/users/<uuid:userId>/devices/<uuid:deviceId>", api.UnitUserDeviceDetailApi.as_view()),
    path(f"{_units}/guests", api.UnitGuestCreateApi.as_view()),
]

api_urlpatterns = [
    path("properties/<uuid:propertyId>/dpsk", api.DpskExportApi.as_view()),
]
