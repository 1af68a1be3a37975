"""Every public API route under /api/v1/, in one list (each app exports api_urlpatterns)."""

from apps.access.urls import api_urlpatterns as access_api
from apps.accounts.urls import api_urlpatterns as accounts_api
from apps.areas.urls import api_urlpatterns as areas_api
from apps.devices.urls import api_urlpatterns as devices_api
from apps.events.urls import api_urlpatterns as events_api
from apps.firmware.urls import api_urlpatterns as firmware_api
from apps.imports.urls import api_urlpatterns as imports_api
from apps.integrations.urls import api_urlpatterns as integrations_api
from apps.locks.urls import api_urlpatterns as locks_api
from apps.portal.urls import api_urlpatterns as portal_api
from apps.properties.urls import api_urlpatterns as properties_api

urlpatterns = [
    *properties_api,
    *areas_api,
    *access_api,
    *accounts_api,
    *devices_api,
    *locks_api,
    *events_api,
    *firmware_api,
    *integrations_api,
    *imports_api,
    *portal_api,
]
