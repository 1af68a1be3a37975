"""Test-only URLconf: the project's URLs plus this branch's emulators under `/_emulators/<kind>/`
(the real mount lives in config/urls.py behind KEYHOUSE_EMULATORS)."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("_emulators/parqex/", include("apps.integrations.parqex.emulator.urls")),
    path("_emulators/smartphonekey/", include("apps.integrations.smartphonekey.emulator.urls")),
    *project_urlpatterns,
]
