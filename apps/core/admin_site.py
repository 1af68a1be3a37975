"""The staff admin site: Keyhouse branding and a dashboard of what needs attention."""

from django.contrib import admin


class KeyhouseAdminSite(admin.AdminSite):
    site_header = "Keyhouse"
    site_title = "Keyhouse admin"
    index_title = "Keyhouse dashboard"
    index_template = "admin/keyhouse_index.html"

    def index(self, request, extra_context=None):
        from apps.core.selectors import dashboard_figures

        return super().index(request, {"keyhouse_figures": dashboard_figures(), **(extra_context or {})})
