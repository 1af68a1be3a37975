"""Bench URLconf: every normal route plus the bare baselines under /bench/."""

from django.urls import include, path

from tests.bench.baseline import BareAreaView, BarePropertyView, BareView

urlpatterns = [
    path("bench/bare", BareView.as_view()),
    path("bench/bare/properties/<uuid:property_id>/areas", BareAreaView.as_view()),
    path("bench/bare/properties/<uuid:property_id>", BarePropertyView.as_view()),
    path("", include("config.urls")),
]
