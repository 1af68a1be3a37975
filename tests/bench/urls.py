"""Bench URLconf: every normal route plus the bare baseline at /bench/bare."""

from django.urls import include, path

from tests.bench.baseline import BareView

urlpatterns = [
    path("bench/bare", BareView.as_view()),
    path("", include("config.urls")),
]
