from django.urls import path, re_path

from apps.integrations.lockt.emulator import control, views

app_name = "lockt_emulator"

urlpatterns = [
    path("_control/instances", control.instances, name="control-instances"),
    path("_control/reset", control.reset, name="control-reset"),
    path("_control/clock", control.clock, name="control-clock"),
    path("_control/switches", control.switches, name="control-switches"),
    path("_control/faults", control.fault, name="control-faults"),
    path("_control/revoke", control.revoke, name="control-revoke"),
    path("_control/restore", control.restore, name="control-restore"),
    path("_control/events", control.events, name="control-events"),
    path("_control/generate", control.generate, name="control-generate"),
    re_path(r"^api/v1/(?P<path>.*)$", views.api, name="api"),
]
