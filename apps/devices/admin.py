"""Staff admin for user devices: per person, with last sync and map versions; renaming and
deprovisioning go through apps.devices.services (devices are provisioned by phones only)."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from apps.core.actors import actor_for_staff
from apps.core.admin_base import PropertyScopedAdmin
from apps.devices import services
from apps.devices.models import UserDevice

_KEYS = ("access_kid", "sync_kid", "seal_kid")
_SYNC = (
    "last_known_sync_date",
    "last_sync_counter",
    "map_version",
    "current_user_access_map_version",
    "current_os_version",
    "current_app_version",
)


@admin.register(UserDevice)
class UserDeviceAdmin(PropertyScopedAdmin):
    """Devices per user (filter by person from the user column), sync state and keys."""

    property_field = None  # devices belong to people, not properties: superusers only

    list_display = (
        "display_name",
        "person",
        "device_type",
        "make_model",
        "type_state",
        "last_known_sync_date",
        "versions",
        "current_app_version",
    )
    list_filter = ("type_state", "device_type")
    list_select_related = ("user",)
    search_fields = ("display_name", "user__email", "user__display_name", "=id", "=user__id")
    actions = ["deprovision"]
    fieldsets = (
        (None, {"fields": ("id", "user", "display_name", "device_type", "make_model", "type_state")}),
        ("Sync", {"fields": _SYNC}),
        ("Keys (held by the phone; public halves only)", {"fields": _KEYS}),
        ("History", {"fields": ("created_at", "last_modified_at", "last_modified_by", "deprovisioned_at")}),
    )
    readonly_fields = (
        "id",
        "user",
        "device_type",
        "make_model",
        "type_state",
        *_SYNC,
        *_KEYS,
        "created_at",
        "last_modified_at",
        "last_modified_by",
        "deprovisioned_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "access_key", "sync_key", "seal_key")

    def has_add_permission(self, request):
        return False  # a phone provisions itself with its own keys (docs/PROTOCOL.md §7.2)

    def has_delete_permission(self, request, obj=None):
        return False  # deprovision instead: keys deactivated, the row kept for the event log

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.deprovisioned_at is not None:
            return (*self.readonly_fields, "display_name")
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        services.user_device_update(
            device=obj, display_name=form.cleaned_data["display_name"], actor=actor_for_staff(request.user)
        )

    @admin.display(description="person", ordering="user__display_name")
    def person(self, obj):
        url = reverse("admin:devices_userdevice_changelist") + f"?user__id__exact={obj.user_id}"
        return format_html('<a href="{}" title="This person\'s devices">{}</a>', url, obj.user.display_name)

    @admin.display(description="map version (server / phone)")
    def versions(self, obj):
        return f"{obj.map_version or '—'} / {obj.current_user_access_map_version or '—'}"

    @admin.display(description="deviceAccessKey")
    def access_kid(self, obj):
        return f"{obj.access_key.kid} ({obj.access_key.type_state})"

    @admin.display(description="deviceSyncKey (Ed25519)")
    def sync_kid(self, obj):
        return f"{obj.sync_key.kid} ({obj.sync_key.type_state})"

    @admin.display(description="deviceSyncKey (X25519)")
    def seal_kid(self, obj):
        return f"{obj.seal_key.kid} ({obj.seal_key.type_state})"

    @admin.action(description="Deprovision selected devices (their keys leave every lock)")
    def deprovision(self, request, queryset):
        done = 0
        for device in queryset.filter(deprovisioned_at__isnull=True):
            services.user_device_deprovision(device=device, actor=actor_for_staff(request.user))
            done += 1
        self.message_user(request, f"Deprovisioned {done} device(s).", messages.SUCCESS)
