"""Every public API route under /api/v1/, in one list (each app exports api_urlpatterns)."""

from apps.accounts.urls import api_urlpatterns as accounts_api

urlpatterns = [
    *accounts_api,
]
