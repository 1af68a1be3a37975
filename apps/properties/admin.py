"""Staff admin for properties: list with live counts, the area tree on the change page.
Every write goes through apps.properties.services (events appended)."""

import zoneinfo

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.access import services as access_services
from apps.access.models import UserGroup
from apps.accounts.models import User
from apps.areas.models import Area
from apps.areas.selectors import area_tree
from apps.core.admin_base import ServiceModelAdmin, admin_property_ids, count_of
from apps.core.validators import validate_address
from apps.properties import services
from apps.properties.models import Property

# (form field, spec Address key)
ADDRESS_FIELDS = (
    ("line1", "line1"),
    ("line2", "line2"),
    ("line3", "line3"),
    ("city", "city"),
    ("state", "state"),
    ("postal_code", "postalCode"),
    ("country", "country"),
)
TREE_ROWS_SHOWN = 500  # a 10k-area property still opens quickly; the rest is in the areas list


def _time_zone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class PropertyForm(forms.ModelForm):
    """The property's own fields plus its spec Address, one input per address part."""

    time_zone = forms.ChoiceField(choices=_time_zone_choices, initial="UTC", help_text="IANA name; schedules use it.")
    line1 = forms.CharField(label="Address line 1", max_length=200)
    line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    line3 = forms.CharField(label="Address line 3", max_length=200, required=False)
    city = forms.CharField(max_length=100)
    state = forms.CharField(label="State / region", max_length=100, required=False)
    postal_code = forms.CharField(label="Postal code", max_length=32)
    country = forms.CharField(max_length=100, help_text="e.g. GB, US")

    class Meta:
        model = Property
        fields = ("display_name", "time_zone", "owner", "access_managers")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, key in ADDRESS_FIELDS:
            self.initial.setdefault(name, (self.instance.address or {}).get(key, ""))
        for name in ("owner", "access_managers"):
            if name in self.fields:
                self.fields[name].queryset = User.objects.alive().order_by("email")

    def clean(self):
        cleaned = super().clean()
        address = {key: cleaned[name].strip() for name, key in ADDRESS_FIELDS if (cleaned.get(name) or "").strip()}
        try:
            validate_address(address)
        except ValidationError as error:
            self.add_error(None, error)
        cleaned["address"] = address
        if self.instance.owner_id and "owner" in self.fields and not cleaned.get("owner"):
            # property_update can hand a property to another owner but not leave it without one.
            self.add_error("owner", "A property with an owner keeps one: choose the new owner.")
        return cleaned


@admin.register(Property)
class PropertyAdmin(ServiceModelAdmin):
    property_field = "pk"

    def has_add_permission(self, request):
        # A new property is outside every property grant: only those who see all add one.
        return admin_property_ids(request.user) is None and super().has_add_permission(request)

    """Properties with their live area and group counts; the change page shows the area tree."""

    form = PropertyForm
    change_form_template = "admin/properties/property/change_form.html"
    list_display = ("display_name", "time_zone", "owner", "area_count", "group_count")
    list_select_related = ("owner",)
    list_filter = ("time_zone",)
    search_fields = ("display_name", "=id")
    ordering = ("display_name",)
    autocomplete_fields = ("owner", "access_managers")
    readonly_fields = ("id", "created_at", "last_modified_at", "last_modified_by")

    class Media:
        css = {"all": ["keyhouse/admin.css"]}

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ("display_name", "time_zone", "owner", "access_managers")}),
            ("Address", {"fields": tuple(name for name, _ in ADDRESS_FIELDS)}),
        ]
        if obj is not None:
            fieldsets.append(("Record", {"fields": self.readonly_fields, "classes": ("collapse",)}))
        return fieldsets

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .alive()
            .annotate(area_count=count_of(Area.objects.alive()), group_count=count_of(UserGroup.objects.alive()))
        )

    @admin.display(description="areas", ordering="area_count")
    def area_count(self, obj):
        return obj.area_count

    @admin.display(description="user groups", ordering="group_count")
    def group_count(self, obj):
        return obj.group_count

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context = {**(extra_context or {}), **self._tree_context(obj)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _tree_context(self, obj) -> dict:
        areas = area_tree(property_id=obj.pk)
        add_url = reverse("admin:areas_area_add")
        return {
            "area_tree": [
                {
                    "area": area,
                    "indent": f"{area.depth * 1.75:g}em",
                    "url": reverse("admin:areas_area_change", args=[area.pk]),
                    "add_child_url": f"{add_url}?property={obj.pk}&parent={area.pk}",
                }
                for area in areas[:TREE_ROWS_SHOWN]
            ],
            "area_total": len(areas),
            "area_hidden": max(0, len(areas) - TREE_ROWS_SHOWN),
            "area_add_url": f"{add_url}?property={obj.pk}",
            "area_list_url": f"{reverse('admin:areas_area_changelist')}?property__id__exact={obj.pk}",
            "group_list_url": f"{reverse('admin:access_usergroup_changelist')}?property__id__exact={obj.pk}",
        }

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "display_name": data["display_name"],
            "address": data["address"],
            "time_zone": data["time_zone"],
            "owner_id": data["owner"].pk if data.get("owner") else None,
            "access_manager_ids": [user.pk for user in data["access_managers"]],
            "actor": self.actor(request),
        }
        if change:
            return services.property_update(prop=obj, **fields)
        return access_services.property_create(property_id=obj.pk, **fields)

    def service_delete(self, request, obj):
        access_services.property_delete(prop=obj, actor=self.actor(request))
