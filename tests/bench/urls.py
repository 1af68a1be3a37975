"""Bench URLconf: every normal route plus the bare baselines under /bench/."""

from django.urls import include, path

from tests.bench.baseline import (
    BareAreaView,
    BareDeviceSyncView,
    BareLockSyncView,
    BarePropertyView,
    BareView,
)

urlpatterns = [
    path("bench/bare", BareView.as_view()),
    path("bench/bare/properties/<uuid:property_id>/areas", BareAreaView.as_view()),
    path("bench/bare/properties/<uuid:property_id>", BarePropertyView.as_view()),
    path("bench/bare/locks/<uuid:lock_id>/sync", BareLockSyncView.as_view()),
    path("bench/bare/users/<uuid:user_id>/devices/<uuid:user_device_id>/sync", BareDeviceSyncView.as_view()),
    path("", include("config.urls")),
]
