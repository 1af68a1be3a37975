"""Staff admin for firmware: versions (upload through the service, read-only afterwards),
assignments per scope (assign / unassign through the services), and for a property the
table of locks with required vs reported firmware. Events as in apps.firmware.services."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.forms.models import construct_instance
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from apps.core.admin_base import ServiceModelAdmin, count_of
from apps.core.exceptions import ApplicationError
from apps.firmware import selectors, services
from apps.firmware.choices import FirmwareAssignmentScope as Scope
from apps.firmware.models import FirmwareAssignment, FirmwareVersion
from apps.locks import selectors as lock_selectors
from apps.properties.models import Property


def _link(obj, label=None) -> str:
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or obj)


def lock_table_url(property_id=None) -> str:
    url = reverse("admin:firmware_firmwareversion_locks")
    return f"{url}?property={property_id}" if property_id else url


class FirmwareUploadForm(forms.ModelForm):
    """A version name and the image; the service validates both (and decides duplicates)."""

    image = forms.FileField(help_text="The firmware image; its SHA-256, size and signed manifest are computed.")

    class Meta:
        model = FirmwareVersion
        fields = ("version",)

    def validate_unique(self):
        pass  # same bytes again: the service returns the existing version; other bytes: 409


@admin.register(FirmwareVersion)
class FirmwareVersionAdmin(ServiceModelAdmin):
    """Uploaded versions. A version never changes after upload and is never deleted."""

    property_field = None  # firmware is global: superusers only

    form = FirmwareUploadForm
    list_display = ("version", "size", "sha256_short", "storage", "assignment_count", "created_at")
    search_fields = ("version", "sha256")
    ordering = ("-created_at",)
    service_error_fields = {"version": "version", "firmware": "image"}
    readonly_fields = (
        "version",
        "device_type",
        "size",
        "sha256",
        "storage_name",
        "s3_bucket",
        "s3_key",
        "signing_key_id",
        "manifest_signature",
        "scopes",
        "id",
        "created_at",
        "last_modified_by",
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("version", "image")})]
        return [
            (None, {"fields": ("version", "device_type", "size", "sha256")}),
            ("Storage", {"fields": ("storage_name", "s3_bucket", "s3_key")}),
            ("Signed manifest", {"fields": ("signing_key_id", "manifest_signature")}),
            ("Assigned at", {"fields": ("scopes",)}),
            ("Record", {"fields": ("id", "created_at", "last_modified_by"), "classes": ("collapse",)}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .alive()
            .annotate(assignments_n=count_of(FirmwareAssignment.objects, through="firmware_version"))
        )

    def has_change_permission(self, request, obj=None):
        return False  # view-only after upload

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="SHA-256")
    def sha256_short(self, obj):
        return f"{obj.sha256[:16]}…"

    @admin.display(description="storage")
    def storage(self, obj):
        return f"s3://{obj.s3_bucket}/{obj.s3_key}" if obj.s3_bucket else "local"

    @admin.display(description="assignments", ordering="assignments_n")
    def assignment_count(self, obj):
        return obj.assignments_n

    @admin.display(description="scopes")
    def scopes(self, obj):
        rows = selectors.firmware_scope_list(firmware_version=obj)
        return (
            format_html_join("", "<div>{} {}</div>", ((row.scope, _target_link(row)) for row in rows))
            or "— (not assigned anywhere)"
        )

    def service_save(self, request, obj, form, change):
        firmware, _created = services.firmware_version_upload(
            version=form.cleaned_data["version"], upload=form.cleaned_data["image"], actor=self.actor(request)
        )
        return firmware

    def get_urls(self):
        view = self.admin_site.admin_view(self.lock_table_view)
        return [path("locks/", view, name="firmware_firmwareversion_locks"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "lock_table_url": lock_table_url()}
        return super().changelist_view(request, extra_context)

    def lock_table_view(self, request):
        """For one property: every lock, the version it must run, what decided that, and the
        version it last reported."""
        if not self.has_view_permission(request):
            raise PermissionDenied  # firmware pages are superusers' (docs/ADMIN.md)
        properties = Property.objects.alive().order_by("display_name")
        chosen = None
        if request.GET.get("property"):
            chosen = (
                properties.filter(pk=request.GET["property"]).first() if _is_uuid(request.GET["property"]) else None
            )
        rows = (
            selectors.lock_firmware_table(
                property_id=chosen.pk, locks=lock_selectors.locks_with_areas(property_id=chosen.pk)
            )
            if chosen
            else []
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Locks of {chosen}: required vs reported firmware"
            if chosen
            else "Locks: required vs reported firmware",
            "opts": self.opts,
            "properties": properties,
            "chosen": chosen,
            "rows": [
                {
                    "lock": row.lock,
                    "area": row.lock.area,
                    "required": row.required,
                    "reported": row.reported,
                    "status": row.status,
                    "decided_by": _decided_by(row.decided_by),
                }
                for row in rows
            ],
            "property_required": selectors.required_firmware_version_for_property(property_id=chosen.pk)
            if chosen
            else None,
        }
        return TemplateResponse(request, "admin/firmware/lock_table.html", context)


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _decided_by(key) -> str:
    if key is None:
        return "—"
    scope, target = key
    return scope if target is None else f"{scope} {target}"


def _target_link(assignment: FirmwareAssignment):
    if assignment.scope == Scope.LOCK:
        return f"lock {assignment.lock_id}"
    if assignment.scope == Scope.AREA:
        return _link(assignment.area)
    if assignment.scope == Scope.PROPERTY:
        return format_html(
            '{} (<a href="{}">locks</a>)', _link(assignment.property), lock_table_url(assignment.property_id)
        )
    return "everywhere"


class FirmwareAssignmentForm(forms.ModelForm):
    class Meta:
        model = FirmwareAssignment
        fields = ("firmware_version", "scope", "lock", "area", "property")
        help_texts = {
            "scope": "lock, area, property or global; fill in only the matching target.",
            "lock": "The lock's id (scope lock).",
        }

    def _post_clean(self):
        # Only build the instance: firmware_assign validates the target and replaces an
        # existing assignment at the same target, which model validation would refuse.
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        except forms.ValidationError as error:
            self._update_errors(error)


@admin.register(FirmwareAssignment)
class FirmwareAssignmentAdmin(ServiceModelAdmin):
    property_field = None  # firmware rollout: superusers only (manage-firmware is not a manager grant)

    """Where each version is required. Adding one at a target that has one replaces it;
    deleting unassigns."""

    form = FirmwareAssignmentForm
    list_display = ("scope", "target", "firmware_version", "created_at", "last_modified_by")
    list_filter = ("scope", ("firmware_version", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("firmware_version", "area", "property", "lock")
    raw_id_fields = ("lock",)
    autocomplete_fields = ("area", "property")
    ordering = ("scope", "-created_at")
    service_error_fields = {"scope": "scope", "lockId": "lock", "areaId": "area", "propertyId": "property"}

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description="target")
    def target(self, obj):
        return _target_link(obj)

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        scope = data["scope"]
        return services.firmware_assign(
            firmware_version=data["firmware_version"],
            scope=scope,
            lock=data.get("lock"),
            area=data.get("area"),
            prop=data.get("property"),
            actor=self.actor(request),
        )

    def service_delete(self, request, obj):
        removed = services.firmware_unassign(
            scope=obj.scope,
            lock=obj.lock if obj.scope == Scope.LOCK else None,
            area=obj.area if obj.scope == Scope.AREA else None,
            prop=obj.property if obj.scope == Scope.PROPERTY else None,
            actor=self.actor(request),
        )
        if removed is None:
            raise ApplicationError("this assignment was already removed")
