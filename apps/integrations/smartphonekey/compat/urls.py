"""Mounted at `compat/smartphonekey/` in config/urls.py (outside /api/)."""

from django.urls import path

from apps.integrations.smartphonekey.compat import views
from apps.integrations.smartphonekey.compat.schema import CompatSchemaView

urlpatterns = [
    path("schema/", CompatSchemaView.as_view(), name="compat-smartphonekey-schema"),
    path("auth/token", views.TokenApi.as_view(), name="compat-smartphonekey-token"),
    path("users/<str:id>/AddAccessibleLock", views.AddAccessibleLockApi.as_view(), name="compat-smartphonekey-add"),
]
