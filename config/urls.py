from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.core.views import api_root, healthz, home

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/", api_root, name="api-root"),
    path("api/v1/", include("config.api_v1")),
    path("", home, name="home"),
]

admin.site.site_header = "Keyhouse"
admin.site.site_title = "Keyhouse admin"
admin.site.index_title = "Keyhouse dashboard"
