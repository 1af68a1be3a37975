"""Personal grants: grant_create, the "revoke" action (grant_revoke); never edited or deleted."""

from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.access import services
from apps.access.admin import explain
from apps.access.admin.display import PropertyZoneAdmin, actor_text, admin_link, local_time_text, validity_text
from apps.access.models import AccessGrant
from apps.areas.models import Area
from apps.core.admin_base import ServiceModelAdmin
from apps.locks.models import Lock
from apps.properties.models import Property


def grant_label(grant: AccessGrant) -> str:
    target = grant.lock if grant.lock_id else grant.area
    return f"{grant.access_level} grant: {grant.user} → {target}"


def _grant_state_q(state: str, now) -> Q:
    live = Q(revoked_at__isnull=True, expired_at__isnull=True) & (Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    return {
        "active": live & (Q(valid_from__isnull=True) | Q(valid_from__lte=now)),
        "upcoming": live & Q(valid_from__gt=now),
        "expired": Q(revoked_at__isnull=True) & (Q(expired_at__isnull=False) | Q(valid_until__lte=now)),
        "revoked": Q(revoked_at__isnull=False),
    }[state]


def grant_state(grant: AccessGrant, now=None) -> str:
    now = now or timezone.now()
    if grant.revoked_at:
        return "revoked"
    if grant.expired_at or (grant.valid_until and grant.valid_until <= now):
        return "expired"
    if grant.valid_from and grant.valid_from > now:
        return "upcoming"
    return "active"


class GrantStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("upcoming", "Not yet valid"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "upcoming", "expired", "revoked"):
            return queryset.filter(_grant_state_q(self.value(), timezone.now()))
        return queryset


class AccessGrantAddForm(forms.ModelForm):
    """Person, level, validity, and exactly one target: a lock or an area (grant_create checks
    the rest: same property, installed lock, GUEST grants end, validUntil in the future)."""

    grant_lock = forms.ModelChoiceField(
        label="Lock",
        queryset=Lock.objects.alive(),
        required=False,
        widget=AutocompleteSelect(AccessGrant._meta.get_field("lock"), admin.site),
        help_text="A lock installed in an area of the property…",
    )
    grant_area = forms.ModelChoiceField(
        label="Area",
        queryset=Area.objects.alive(),
        required=False,
        widget=AutocompleteSelect(AccessGrant._meta.get_field("area"), admin.site),
        help_text="… or an area (then also its common sub-areas).",
    )

    class Meta:
        model = AccessGrant
        fields = ("property", "user", "access_level", "valid_from", "valid_until")
        help_texts = {
            "valid_from": "Optional.",
            "valid_until": "Required for GUEST grants: guest access must end.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["property"].queryset = Property.objects.alive().order_by("display_name")

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("grant_lock")) == bool(cleaned.get("grant_area")):
            self.add_error("grant_lock", "Give exactly one of a lock and an area.")
        return cleaned


@admin.register(AccessGrant)
class AccessGrantAdmin(PropertyZoneAdmin, ServiceModelAdmin):
    property_field = "property"

    """Personal grants. Added through grant_create, ended with the "revoke" action (grant_revoke);
    a grant's row stays forever, so it is never edited or deleted here."""

    add_form = AccessGrantAddForm
    change_form_template = "admin/access/accessgrant/change_form.html"
    change_list_template = "admin/access/accessgrant/change_list.html"
    list_display = ("person", "target", "property", "access_level", "state", "validity")
    list_select_related = ("user", "lock", "area", "property")
    list_filter = (("property", admin.RelatedOnlyFieldListFilter), "access_level", GrantStateFilter)
    search_fields = ("user__email", "user__display_name", "lock__display_name", "area__display_name", "=id")
    ordering = ("-created_at",)
    autocomplete_fields = ("user",)
    actions = ["revoke"]
    service_error_fields = {
        "lockId": "grant_lock",
        "areaId": "grant_area",
        "userId": "user",
        "accessLevel": "access_level",
        "validFrom": "valid_from",
        "validUntil": "valid_until",
    }
    readonly_fields = (
        "user",
        "property",
        "target",
        "access_level",
        "state",
        "valid_from_local",
        "valid_until_local",
        "granted_by_who",
        "revoked_at",
        "revoked_by_who",
        "expired_at",
        "id",
        "created_at",
        "last_modified_at",
        "last_modified_by",
    )

    class Media:
        css = {"all": ["keyhouse/admin.css"]}

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            fields = ("property", "user", "grant_lock", "grant_area", "access_level", "valid_from", "valid_until")
            return [(None, {"fields": fields})]
        return [
            (None, {"fields": ("user", "property", "target", "access_level", "state")}),
            ("Validity", {"fields": ("valid_from_local", "valid_until_local", "expired_at")}),
            ("Who and when", {"fields": ("granted_by_who", "created_at", "revoked_at", "revoked_by_who")}),
            ("Record", {"fields": ("id", "last_modified_at", "last_modified_by"), "classes": ("collapse",)}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).alive()

    def has_change_permission(self, request, obj=None):
        # A grant is never edited: its page is read-only; the changelist keeps "revoke".
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # revoked and expired grants stay, with who and when

    @admin.display(description="person", ordering="user__display_name")
    def person(self, obj):
        return format_html('<span title="{}">{}</span>', obj.user.email, obj.user.display_name or obj.user.email)

    @admin.display(description="lock or area")
    def target(self, obj):
        if obj.lock_id:
            return format_html("{} {}", "lock", admin_link(obj.lock))
        return format_html("{} {}", "area", admin_link(obj.area))

    @admin.display(description="valid (property's time)")
    def validity(self, obj):
        with timezone.override(ZoneInfo(obj.property.time_zone)):
            return validity_text(obj.valid_from, obj.valid_until)

    @admin.display(description="valid from")
    def valid_from_local(self, obj):
        return local_time_text(obj.valid_from, obj.property.time_zone) or "— (from the start)"

    @admin.display(description="valid until")
    def valid_until_local(self, obj):
        return local_time_text(obj.valid_until, obj.property.time_zone) or "— (no end)"

    @admin.display(description="granted by")
    def granted_by_who(self, obj):
        return actor_text(obj.granted_by)

    @admin.display(description="revoked by")
    def revoked_by_who(self, obj):
        return actor_text(obj.revoked_by) if obj.revoked_by else "—"

    @admin.display(description="state")
    def state(self, obj):
        state = grant_state(obj)
        return format_html('<span class="keyhouse-state keyhouse-state-{}">{}</span>', state, state)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        grant = self.get_object(request, object_id)
        if grant is not None:
            extra_context = {**(extra_context or {}), "subtitle": grant_label(grant), "state": grant_state(grant)}
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "explain_url": reverse("admin:access_explain")}
        return super().changelist_view(request, extra_context)

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        return services.grant_create(
            prop=data["property"],
            user=data["user"],
            access_level=data["access_level"],
            lock=data.get("grant_lock"),
            area=data.get("grant_area"),
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
            actor=self.actor(request),
        )

    @admin.action(permissions=["change"], description="Revoke selected grants…")
    def revoke(self, request, queryset):
        """Confirm, then grant_revoke each one (revoking a revoked grant changes nothing)."""
        if "apply" not in request.POST:
            return TemplateResponse(
                request,
                "admin/access/accessgrant/revoke.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Revoke grants",
                    "opts": self.opts,
                    "grants": [(grant, grant_label(grant), grant_state(grant)) for grant in queryset],
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        actor = self.actor(request)
        revoked = [services.grant_revoke(grant=g, actor=actor) for g in queryset if g.revoked_at is None]
        skipped = queryset.count() - len(revoked)
        note = f"; {skipped} already revoked" if skipped else ""
        self.message_user(request, f"Revoked {len(revoked)} grant(s){note}.", messages.SUCCESS)
        return None

    # "Explain access" hangs here: the admin site has no place for a page of its own, and
    # explaining is about who may open what (apps.access.admin.explain).
    def get_urls(self):
        view = self.admin_site.admin_view(self.explain_view)
        return [path("explain/", view, name="access_explain"), *super().get_urls()]

    def explain_view(self, request):
        return explain.explain_view(self, request)
