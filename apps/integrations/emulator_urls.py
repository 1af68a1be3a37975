"""Vendor emulators, mounted at /_emulators/<kind>/ by config/urls.py when KEYHOUSE_EMULATORS is
true. One line per vendor; each emulator is a stand-in for a remote cloud with its own tables."""

from django.urls import include, path

urlpatterns = [
    path("lockt/", include("apps.integrations.lockt.emulator.urls")),
    path("parqex/", include("apps.integrations.parqex.emulator.urls")),
    path("smartphonekey/", include("apps.integrations.smartphonekey.emulator.urls")),
]
