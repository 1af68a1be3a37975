from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from apps.core.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/", include("config.api_v1")),
    # SmartphoneKey's own API shape, served by Keyhouse (docs/INTEGRATIONS.md), outside /api/.
    path("compat/smartphonekey/", include("apps.integrations.smartphonekey.compat.urls")),
]

handler500 = "apps.core.views.server_error"

admin.site.site_header = "Keyhouse"
admin.site.site_title = "Keyhouse admin"
admin.site.index_title = "Keyhouse dashboard"
