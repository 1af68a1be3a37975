"""Staff admin for areas: filters by property, type and level, a "move" action, and every
write through apps.access.services (the area with its group and access list; events
`area.created`, `area.updated`, `area.moved`, …)."""

import json
import uuid

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.access import services as access_services
from apps.areas.models import Area
from apps.areas.selectors import area_tree
from apps.core.admin_base import ServiceModelAdmin
from apps.core.exceptions import ApplicationError
from apps.properties.models import Property

TOP_LEVEL = "top"
INDENT = "\u2003"  # an em space per level in the "new parent" choices


def _change_link(obj) -> str:
    if obj is None:
        return "—"
    return format_html(
        '<a href="{}">{}</a>', reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk]), obj
    )


class AreaLevelFilter(admin.SimpleListFilter):
    title = "level"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [(TOP_LEVEL, "Top level"), ("nested", "Inside another area")]

    def queryset(self, request, queryset):
        if self.value() == TOP_LEVEL:
            return queryset.filter(parent__isnull=True)
        if self.value() == "nested":
            return queryset.filter(parent__isnull=False)
        return queryset


class AreaForm(forms.ModelForm):
    class Meta:
        model = Area
        fields = ("property", "display_name", "area_type", "parent")
        help_texts = {
            "parent": "Leave empty for a top-level area. Must be in the same property.",
            # docs/ACCESS.md rule 3, in a manager's words
            "area_type": "Resident: a home (a unit); only its own people and those named on it get in. "
            "Common: a shared place (lobby, gym, garage); whoever may enter an area above it may "
            "enter it too. Staff: a staff-only room; only staff groups reach it from above.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "property" in self.fields:
            self.fields["property"].queryset = Property.objects.alive().order_by("display_name")
        if "parent" in self.fields:
            self.fields["parent"].queryset = Area.objects.alive().select_related("property")
            self.fields["parent"].label_from_instance = area_label

    def clean(self):
        cleaned = super().clean()
        prop = cleaned.get("property") or (self.instance.property if self.instance.property_id else None)
        parent = cleaned.get("parent")
        if prop is not None and parent is not None and parent.property_id != prop.pk:
            self.add_error("parent", f"“{parent}” is in {parent.property}, not in {prop}.")
        return cleaned


def area_label(area: Area) -> str:
    return f"{area.display_name} · {area.property.display_name}"


class AreaMoveForm(forms.Form):
    """The intermediate page of "Move selected areas…": a new parent in the same property."""

    parent = forms.TypedChoiceField(label="New parent", required=False, coerce=uuid.UUID, empty_value=None)

    def __init__(self, *args, prop: Property, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— top level (no parent) —")]
        choices += [(str(a.pk), f"{INDENT * a.depth}{a.display_name}") for a in area_tree(property_id=prop.pk)]
        self.fields["parent"].choices = choices


@admin.register(Area)
class AreaAdmin(ServiceModelAdmin):
    """Areas of every property; the tree itself is shown on the property's page."""

    property_field = "property"

    form = AreaForm
    list_display = ("display_name", "property", "area_type", "parent", "depth")
    list_select_related = ("property", "parent")
    list_filter = (("property", admin.RelatedOnlyFieldListFilter), "area_type", AreaLevelFilter)
    search_fields = ("display_name", "=id")
    ordering = ("property__display_name", "display_name")
    autocomplete_fields = ("parent",)
    actions = ["move"]
    service_error_fields = {"parentAreaId": "parent", "displayName": "display_name"}
    readonly_fields = (
        "containing_areas",
        "sub_areas",
        "area_user_group",
        "access_list_pretty",
        "access_list_version",
        "id",
        "created_at",
        "last_modified_at",
        "last_modified_by",
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("property", "display_name", "area_type", "parent")})]
        return [
            (None, {"fields": ("property", "display_name", "area_type", "parent")}),
            ("Place in the tree", {"fields": ("containing_areas", "sub_areas", "area_user_group")}),
            ("Access list", {"fields": ("access_list_pretty", "access_list_version")}),
            (
                "Record",
                {"fields": ("id", "created_at", "last_modified_at", "last_modified_by"), "classes": ("collapse",)},
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("property", "area_type", *self.readonly_fields)  # areas keep their property and type

    def get_queryset(self, request):
        return super().get_queryset(request).alive().select_related("property")

    def autocomplete_label(self, obj) -> str:
        return area_label(obj)

    @admin.display(description="containing areas (nearest first)")
    def containing_areas(self, obj):
        by_id = {str(pk): area for pk, area in Area.objects.in_bulk(obj.ancestor_ids).items()}
        chain = [by_id[i] for i in obj.ancestor_ids if i in by_id]
        return format_html_join(" ‹ ", "{}", ((_change_link(area),) for area in chain)) or "— (top level)"

    @admin.display(description="sub-areas")
    def sub_areas(self, obj):
        children = obj.children.alive().order_by("display_name")
        return format_html_join(", ", "{}", ((_change_link(child),) for child in children)) or "—"

    @admin.display(description="area user group")
    def area_user_group(self, obj):
        return _change_link(getattr(obj, "area_user_group", None))

    @admin.display(description="access list")
    def access_list_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.access_list, indent=2)) if obj.access_list else "—"

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        parent_id = data["parent"].pk if data.get("parent") else None
        if change:
            return access_services.area_update(
                area=obj, display_name=data["display_name"], parent_id=parent_id, actor=self.actor(request)
            )
        return access_services.area_create(
            prop=data["property"],
            display_name=data["display_name"],
            area_type=data["area_type"],
            parent_id=parent_id,
            actor=self.actor(request),
            area_id=obj.pk,
        )

    def service_delete(self, request, obj):
        access_services.area_delete(area=obj, actor=self.actor(request))

    @admin.action(permissions=["change"], description="Move selected areas…")
    def move(self, request, queryset):
        """Ask for a new parent in the same property, then move each area with area_update."""
        property_ids = set(queryset.values_list("property_id", flat=True))
        if len(property_ids) != 1:
            self.message_user(request, "Select areas of one property to move them together.", messages.ERROR)
            return None
        prop = Property.objects.get(pk=property_ids.pop())
        form = AreaMoveForm(request.POST if "apply" in request.POST else None, prop=prop)
        if form.is_valid():
            moved = 0
            for area in queryset:
                try:
                    access_services.area_update(
                        area=area, parent_id=form.cleaned_data["parent"], actor=self.actor(request)
                    )
                except ApplicationError as refusal:
                    self.message_user(request, f"{area}: {refusal.message}", messages.ERROR)
                else:
                    moved += 1
            if moved:
                self.message_user(request, f"Moved {moved} area(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/action_intermediate.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Move areas of {prop}",
                "intro": "Choose the new parent. An area cannot move under itself or under one of its sub-areas.",
                "opts": self.opts,
                "queryset": queryset,
                "form": form,
                "action": "move",
                "submit_label": "Move",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )
