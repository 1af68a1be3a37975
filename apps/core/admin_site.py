"""The staff admin site: Keyhouse branding and a dashboard of what needs attention."""

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView

from apps.core.dashboard import dashboard_figures


class KeyhouseAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete results labelled by the target ModelAdmin's `autocomplete_label(obj)` when it
    has one: many areas are called "Floor 1" and every property has a "Residents" group."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        label = getattr(self.model_admin, "autocomplete_label", None)
        if label is not None:
            result["text"] = label(obj)
        return result


class KeyhouseAdminSite(admin.AdminSite):
    site_header = "Keyhouse"
    site_title = "Keyhouse admin"
    index_title = "Keyhouse dashboard"
    index_template = "admin/keyhouse_index.html"

    def index(self, request, extra_context=None):
        return super().index(request, {"keyhouse_figures": dashboard_figures(), **(extra_context or {})})

    def autocomplete_view(self, request):
        return KeyhouseAutocompleteJsonView.as_view(admin_site=self)(request)
