"""The SmartphoneKey emulator's URLconf; mount it at `_emulators/smartphonekey/` (development and tests only)."""

from django.urls import path

from apps.integrations.smartphonekey.emulator import views

urlpatterns = [
    path("auth/token", views.token),
    path("users/<str:user_id>/AddAccessibleLock", views.add_accessible_lock),
    path("_control/users/<str:user_id>/locks", views.control_user_locks),
    path("_control/reset", views.control_reset),
    path("_control/fail", views.control_fail),
]
