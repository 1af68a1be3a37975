from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from apps.core.views import api_root, healthz, home, redoc_bundle
from apps.portal.urls import page_urlpatterns as portal_pages
from apps.portal.urls import portal_api_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/redoc/redoc.standalone.js", redoc_bundle, name="api-redoc-bundle"),
    path("api/v1/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/", api_root, name="api-root"),
    path("api/v1/", include("config.api_v1")),
    path("api/portal/v1/", include(portal_api_urlpatterns)),
    path("portal/", include((portal_pages, "portal"))),
    # SmartphoneKey's own API shape, served by Keyhouse (docs/INTEGRATIONS.md), outside /api/.
    path("compat/smartphonekey/", include("apps.integrations.smartphonekey.compat.urls")),
    path("", home, name="home"),
]

if settings.KEYHOUSE_EMULATORS:
    # Stand-ins for vendor clouds (docs/INTEGRATIONS.md), outside /api/: Lockt's own envelopes.
    urlpatterns.append(path("_emulators/", include("apps.integrations.emulator_urls")))

handler500 = "apps.core.views.server_error"

admin.site.site_header = "Keyhouse"
admin.site.site_title = "Keyhouse admin"
admin.site.index_title = "Keyhouse dashboard"
