"""Portal routes: its API (mounted at /api/portal/v1/), the staff export (in /api/v1/), pages (/portal/)."""

from django.urls import path

from apps.portal import api, views

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

app_name = "portal"

page_urlpatterns = [
    path("", views.home, name="home"),
    path("access/<str:token>", views.access_link, name="access"),
    path("sign-in", views.sign_in, name="sign-in"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("passphrase", views.passphrase, name="passphrase"),
    path("people", views.people, name="people"),
    path("people/<uuid:user_id>", views.person_action, name="person"),
    path("devices", views.devices, name="devices"),
    path("account", views.account, name="account"),
]
