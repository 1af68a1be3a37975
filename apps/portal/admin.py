"""Staff admin for the resident portal: units (resident areas) with their people and the
portal token (rotate: the new sign-in link is shown once), unit users (add, contact details,
block / unblock, reset passphrase, end a guest's access), and the people of a unit inline on
the area page. Every write goes through apps.portal.services."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from apps.areas.models import Area, AreaAreaType
from apps.core.admin_base import PropertyScopedAdmin, PropertyScopedInline, ServiceModelAdmin
from apps.core.exceptions import ApplicationError
from apps.portal import selectors, services
from apps.portal.models import PortalSettings, Unit, UnitUser, UnitUserType


def _link(obj, text=None):
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text or obj)


class ShownOnlyFormSet(BaseInlineFormSet):
    """Never bound, never saved: the area form posts without this inline's management form
    (its own tests, scripts) and still saves; the people change on their own page."""

    def __init__(self, data=None, files=None, *args, **kwargs):
        super().__init__(None, None, *args, **kwargs)

    def is_valid(self):
        return True

    def save(self, commit=True):
        return []


class UnitUserInline(PropertyScopedInline, admin.TabularInline):
    """The unit's people, read-only (changes go through the unit user's page and its actions)."""

    model = UnitUser
    formset = ShownOnlyFormSet
    fk_name = "area"
    extra = 0
    can_delete = False
    fields = ("person", "user_type", "status", "email", "phone_number", "valid_until")
    readonly_fields = fields
    verbose_name = "unit user"
    verbose_name_plural = "unit users (resident portal)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return obj is not None and obj.area_type == AreaAreaType.RESIDENT and super().has_view_permission(request, obj)

    def get_queryset(self, request):
        # Not super(): it asks has_view_permission without the area, which hides the add page's inline.
        return UnitUser.objects.alive().select_related("user").order_by("user_type", "user_name")

    @admin.display(description="person")
    def person(self, obj):
        return _link(obj, obj.user_name)


# The area page (apps/areas/admin.py) shows a unit's people too, without that module knowing the portal.
_area_admin = admin.site._registry.get(Area)
if _area_admin is not None and UnitUserInline not in _area_admin.inlines:
    _area_admin.inlines = [*_area_admin.inlines, UnitUserInline]


@admin.register(Unit)
class UnitAdmin(PropertyScopedAdmin):
    """Resident areas with their portal token; created and changed on the area page."""

    property_field = "property"

    list_display = ("display_name", "property", "people", "token")
    list_select_related = ("property",)
    list_filter = (("property", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("display_name", "=id")
    ordering = ("property__display_name", "display_name")
    actions = ["rotate_token"]
    fields = ("area", "property", "token")
    readonly_fields = fields
    inlines = [UnitUserInline]

    def get_queryset(self, request):
        return super().get_queryset(request).alive().filter(area_type=AreaAreaType.RESIDENT)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only page; the actions write

    @admin.display(description="area")
    def area(self, obj):
        return _link(Area.objects.get(pk=obj.pk), obj.display_name)

    @admin.display(description="people")
    def people(self, obj):
        return selectors.unit_user_list(area_id=obj.pk).count()

    @admin.display(description="portal token")
    def token(self, obj):
        live = selectors.unit_token_live(area_id=obj.pk)
        if live is None:
            return "none yet: use “Rotate portal token”"
        used = f", last used {live.last_used_at:%Y-%m-%d %H:%M} UTC" if live.last_used_at else ", never used"
        return f"khr_{live.prefix}_… created {live.created_at:%Y-%m-%d %H:%M} UTC{used}"

    @admin.action(permissions=["view"], description="Rotate portal token (the old one stops at once)")
    def rotate_token(self, request, queryset):
        base = settings.KEYHOUSE_PORTAL_URL.rstrip("/")
        for unit in queryset:
            _, secret = services.unit_token_rotate(area=Area.objects.get(pk=unit.pk), actor=f"staff:{request.user.pk}")
            self.message_user(
                request,
                f"{unit.display_name} ({unit.property}): new sign-in link, shown once: {base}/access/{secret}",
                messages.WARNING,
            )


class UnitUserAddForm(forms.ModelForm):
    class Meta:
        model = UnitUser
        fields = ("area", "user", "user_type", "user_name", "email", "phone_number", "valid_from", "valid_until")
        help_texts = {
            "user_name": "Leave empty to use the person's name.",
            "valid_until": "Guests only (required for them).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.alive().filter(area_type=AreaAreaType.RESIDENT)
        self.fields["area"].label = "Unit"
        self.fields["user_name"].required = False


class UnitUserChangeForm(forms.ModelForm):
    class Meta:
        model = UnitUser
        fields = ("user_name", "email", "phone_number")


@admin.register(UnitUser)
class UnitUserAdmin(ServiceModelAdmin):
    property_field = "property"

    list_display = ("user_name", "unit", "property", "user_type", "status", "valid_until")
    list_select_related = ("area", "property")
    list_filter = (("property", admin.RelatedOnlyFieldListFilter), "user_type", "status")
    search_fields = ("user_name", "email", "user__email", "area__display_name")
    autocomplete_fields = ("user",)
    actions = ["block", "unblock", "reset_passphrase", "end_guest"]
    service_error_fields = {
        "userName": "user_name",
        "phoneNumber": "phone_number",
        "validUntil": "valid_until",
        "validFrom": "valid_from",
        "type": "user_type",
        "areaId": "area",
        "userId": "user",
    }

    def get_queryset(self, request):
        return super().get_queryset(request).alive()

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = UnitUserChangeForm if obj is not None else UnitUserAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return UnitUserAddForm.Meta.fields
        return (
            "unit",
            "user",
            "user_type",
            "status",
            *UnitUserChangeForm.Meta.fields,
            "valid_from",
            "valid_until",
            "passphrase_changed_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("unit", "user", "user_type", "status", "valid_from", "valid_until", "passphrase_changed_at")

    @admin.display(description="unit", ordering="area__display_name")
    def unit(self, obj):
        return obj.area.display_name

    def has_delete_permission(self, request, obj=None):
        return False  # block, or end a guest's access: the row stays as the record

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            unit_user, _, _ = services.unit_user_update(
                unit_user=obj,
                user_name=data["user_name"],
                email=data["email"],
                phone_number=data["phone_number"],
                actor=self.actor(request),
            )
            return unit_user
        return services.unit_user_create(
            area=data["area"],
            user=data["user"],
            user_type=data["user_type"],
            user_name=data.get("user_name") or None,
            email=data.get("email") or None,
            phone_number=data.get("phone_number") or None,
            valid_from=data.get("valid_from") if data["user_type"] == UnitUserType.GUEST else None,
            valid_until=data.get("valid_until") if data["user_type"] == UnitUserType.GUEST else None,
            invite=True,
            actor=self.actor(request),
        )

    def _each(self, request, queryset, service, done: str):
        count = 0
        for unit_user in queryset.select_related("area"):
            try:
                service(unit_user=unit_user, actor=self.actor(request))
            except ApplicationError as refusal:
                fields = refusal.fields
                text = " ".join(sum(fields.values(), [])) or refusal.message
                self.message_user(request, f"{unit_user.user_name} ({unit_user.area}): {text}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{done}: {count} unit user(s).", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Block selected unit users")
    def block(self, request, queryset):
        self._each(request, queryset, services.unit_user_block, "Blocked")

    @admin.action(permissions=["change"], description="Unblock selected unit users")
    def unblock(self, request, queryset):
        self._each(request, queryset, services.unit_user_unblock, "Unblocked")

    @admin.action(permissions=["change"], description="Reset passphrase of selected unit users")
    def reset_passphrase(self, request, queryset):
        def reset(*, unit_user, actor):
            services.unit_user_update(unit_user=unit_user, passphrase="", actor=actor)

        self._each(request, queryset, reset, "New passphrase generated (see the DPSK export)")

    @admin.action(permissions=["change"], description="End selected guests' access now")
    def end_guest(self, request, queryset):
        self._each(request, queryset, services.guest_end, "Access ended")


@admin.register(PortalSettings)
class PortalSettingsAdmin(ServiceModelAdmin):
    property_field = "property"

    list_display = ("property", "wifi_network_name", "passphrase_length", "guest_max_days")
    fields = ("property", "wifi_network_name", "passphrase_length", "guest_max_days")

    def get_readonly_fields(self, request, obj=None):
        return ("property",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        prop = obj.property if change else data["property"]
        return services.portal_settings_update(
            prop=prop,
            wifi_network_name=data["wifi_network_name"],
            passphrase_length=data["passphrase_length"],
            guest_max_days=data["guest_max_days"],
            actor=self.actor(request),
        )
