"""The ParqEx emulator's URLconf; mount it at `_emulators/parqex/` (development and tests only)."""

from django.urls import path

from apps.integrations.parqex.emulator import views

urlpatterns = [
    path("oauth/v1/endpoints/sync", views.sync, name="parqex-emulator-sync"),
    path("_control/reset", views.control_reset),
    path("_control/state", views.control_state),
    path("_control/fail", views.control_fail),
    path("_control/doors/<str:door_id>", views.control_door),
    path("_control/doors/<str:door_id>/toggle", views.control_door_toggle),
    path("_control/controllers/<str:controller_id>", views.control_controller),
]
