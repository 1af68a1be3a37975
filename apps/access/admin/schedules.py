"""Schedules: a weekly grid over the windows JSON (static/keyhouse/schedule_grid.js);
schedule_create / update / delete."""

import json
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html_join

from apps.access import schedules as sched
from apps.access import services
from apps.access.admin.display import FieldPaths, PropertyZoneAdmin, admin_link, validity_text
from apps.access.models import Schedule
from apps.areas.models import Area
from apps.core.admin_base import ServiceModelAdmin
from apps.properties.models import Property


def _ordered(window: dict) -> dict:
    """days, start, stop first, whatever order the database kept (PostgreSQL's jsonb sorts keys)."""
    return {**{key: window[key] for key in ("days", "start", "stop") if key in window}, **window}


class WindowsField(forms.JSONField):
    """The windows JSON, one window per line (what the grid writes and the service reads)."""

    def prepare_value(self, value):
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            if not value:
                return "[]"
            return "[\n" + ",\n".join(f"  {json.dumps(_ordered(item), ensure_ascii=False)}" for item in value) + "\n]"
        return super().prepare_value(value)


class ScheduleGridWidget(forms.Textarea):
    """A textarea holding the windows JSON, which static/keyhouse/schedule_grid.js puts under
    a weekly grid (7 days × 30-minute cells). The textarea stays what is submitted: the grid
    writes the windows it can draw and keeps the others (crossing midnight, seconds, off the
    grid) exactly as they are. Without JavaScript the textarea alone still works."""

    def __init__(self, step_minutes: int = 30):
        super().__init__(attrs={"rows": 8, "cols": 90, "spellcheck": "false", "data-schedule-grid": str(step_minutes)})

    class Media:
        css = {"all": ["keyhouse/admin.css"]}
        js = ["keyhouse/schedule_grid.js"]


class ScheduleForm(forms.ModelForm):
    windows = WindowsField(
        initial=list,
        widget=ScheduleGridWidget(),
        help_text=(
            "Click or drag over cells to open or close them; times are wall-clock times in the property's "
            'time zone. The JSON is what is saved: [{"days": ["mon", …], "start": "HH:MM", "stop": "HH:MM"}]; '
            "a stop at or before its start crosses midnight."
        ),
    )

    class Meta:
        model = Schedule
        fields = ("property", "display_name", "windows", "valid_from", "valid_until")
        help_texts = {
            "valid_from": "Optional: the schedule opens nothing before this instant.",
            "valid_until": "Optional: the schedule opens nothing from this instant on.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "property" in self.fields:
            self.fields["property"].queryset = Property.objects.alive().order_by("display_name")


def _areas_using(property_id, *, key: str, value) -> list[Area]:
    """Live areas of the property whose access list names `value` under `key`."""
    wanted = str(value)
    areas = Area.objects.alive().filter(property_id=property_id).only("id", "display_name", "access_list")
    return [area for area in areas if any(entry.get(key) == wanted for entry in area.access_list or [])]


@admin.register(Schedule)
class ScheduleAdmin(PropertyZoneAdmin, ServiceModelAdmin):
    """Schedules per property; the change page edits the weekly windows on a grid."""

    property_field = "property"

    form = ScheduleForm
    list_display = ("display_name", "property", "windows_text", "validity", "last_modified_at")
    list_select_related = ("property",)
    list_filter = (("property", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("display_name", "property__display_name", "=id")
    ordering = ("property__display_name", "display_name")
    service_error_fields = FieldPaths(
        windows="windows", validFrom="valid_from", validUntil="valid_until", displayName="display_name"
    )
    readonly_fields = ("property", "time_zone", "used_by", "id", "created_at", "last_modified_at", "last_modified_by")

    class Media:
        css = {"all": ["keyhouse/admin.css"]}

    def get_fieldsets(self, request, obj=None):
        head = ("property", "display_name") if obj is None else ("display_name", "property", "time_zone")
        fieldsets = [
            (None, {"fields": head}),
            ("Weekly windows", {"fields": ("windows",), "classes": ("keyhouse-schedule-windows",)}),
            ("Validity", {"fields": ("valid_from", "valid_until")}),
        ]
        if obj is not None:
            fieldsets += [
                ("Used by", {"fields": ("used_by",)}),
                (
                    "Record",
                    {"fields": ("id", "created_at", "last_modified_at", "last_modified_by"), "classes": ("collapse",)},
                ),
            ]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).alive()

    def autocomplete_label(self, obj) -> str:
        return f"{obj.display_name} · {obj.property.display_name}"

    @admin.display(description="windows")
    def windows_text(self, obj):
        try:
            return "; ".join(sched.describe(window) for window in sched.windows_from_json(obj.windows))
        except sched.ScheduleError:
            return "—"

    @admin.display(description="valid (property's time)")
    def validity(self, obj):
        with timezone.override(ZoneInfo(obj.property.time_zone)):
            return validity_text(obj.valid_from, obj.valid_until)

    @admin.display(description="time zone")
    def time_zone(self, obj):
        return obj.property.time_zone

    @admin.display(description="access lists using it")
    def used_by(self, obj):
        areas = _areas_using(obj.property_id, key="scheduleId", value=obj.pk)
        return format_html_join(", ", "{}", ((admin_link(area),) for area in areas)) or "— (it can be deleted)"

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "display_name": data["display_name"],
            "windows": data["windows"],
            "valid_from": data.get("valid_from"),
            "valid_until": data.get("valid_until"),
            "actor": self.actor(request),
        }
        if change:
            return services.schedule_update(schedule=obj, **fields)
        return services.schedule_create(prop=data["property"], **fields)

    def service_delete(self, request, obj):
        services.schedule_delete(schedule=obj, actor=self.actor(request))
