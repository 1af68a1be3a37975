"""Staff admin for integration accounts and their sync runs (docs/INTEGRATIONS.md).

Every write goes through apps.integrations.services: add = integration_account_create, change =
integration_account_update (blank credential fields keep the stored ones), delete =
integration_account_delete, "Poll now" = integration_account_poll_request. Credentials are
typed into password fields and never shown back. The Lockt pages (records, credentials, marks)
are in apps/integrations/lockt/admin.py, registered from here."""

from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timezone import localtime

from apps.core.admin_base import ReadOnlyModelAdmin, ServiceModelAdmin
from apps.core.exceptions import ApplicationError
from apps.integrations import registry, services
from apps.integrations.choices import IntegrationAccountStatus
from apps.integrations.models import (
    IntegrationAccount,
    ParqExDoor,
    SmartphoneKeyPush,
    SyncRun,
)
from apps.properties.models import Property


def _credential_names() -> list[str]:
    """Every credential field any registered vendor takes, in registration order."""
    names: list[str] = []
    for kind in sorted(registry.vendor_kinds()):
        names += [n for n in registry.vendor_get(kind).credential_fields if n not in names]
    return names


def _credential_help() -> str:
    per_kind = "; ".join(
        f"{kind}: {', '.join(registry.vendor_get(kind).credential_fields)}" for kind in sorted(registry.vendor_kinds())
    )
    return f"Only the fields of the account's kind ({per_kind}). Stored encrypted, never shown."


class IntegrationAccountForm(forms.ModelForm):
    enabled = forms.BooleanField(required=False, initial=True, help_text="Unticked: never polled.")
    base_url = forms.URLField(
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="Empty: the vendor's cloud. https only (http only for local emulators in development).",
    )

    class Meta:
        model = IntegrationAccount
        fields = ("kind", "property", "display_name", "base_url", "poll_interval_seconds", "time_zone")
        help_texts = {
            "base_url": "Empty: the vendor's cloud. https only (http only for local emulators in development)."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["property"].queryset = Property.objects.alive().order_by("display_name")
        self.fields["time_zone"].required = False
        self.fields[
            "time_zone"
        ].help_text = (
            "IANA zone of the remote's times that carry none (ParqEx's last contact, last toggled). Empty: UTC."
        )
        adding = self.instance._state.adding
        if not adding:
            self.fields["kind"].disabled = True
            self.fields["property"].disabled = True
            self.fields["enabled"].initial = self.instance.status != IntegrationAccountStatus.DISABLED
        for name in _credential_names():
            self.fields[f"credential_{name}"].help_text = (
                _credential_help() if adding else "Leave empty to keep the stored value."
            )

    def credentials(self, kind: str) -> dict[str, str] | None:
        """The typed credentials of `kind`'s fields; None when all are empty (keep the stored ones)."""
        vendor = registry.vendor_get(kind)
        names = vendor.credential_fields if vendor else ()
        typed = {name: self.cleaned_data.get(f"credential_{name}") or "" for name in names}
        return typed if any(typed.values()) else None


@admin.register(IntegrationAccount)
class IntegrationAccountAdmin(ServiceModelAdmin):
    """Remote accounts mirrored into properties: how each is doing, its last run, Poll now."""

    property_field = "property"
    form = IntegrationAccountForm
    list_display = (
        "display_name",
        "kind",
        "property",
        "status_badge",
        "last_success_at",
        "last_run",
        "short_error",
    )
    list_select_related = ("property",)
    list_filter = ("kind", "status", ("property", admin.RelatedOnlyFieldListFilter))
    search_fields = ("display_name", "property__display_name", "=id")
    ordering = ("property__display_name", "display_name")
    actions = ["poll_now", "test_connection"]
    service_error_fields = {
        "displayName": "display_name",
        "baseUrl": "base_url",
        "kind": "kind",
        "enabled": "enabled",
        **{f"credentials.{name}": f"credential_{name}" for name in ("apiuser", "apikey")},
    }
    readonly_fields = (
        "status",
        "consecutive_failures",
        "last_attempt_at",
        "last_success_at",
        "next_attempt_at",
        "last_error",
        "last_run",
        "runs_link",
        "id",
        "kek_id",
        "created_at",
        "last_modified_at",
        "last_modified_by",
    )

    def get_fieldsets(self, request, obj=None):
        credentials = tuple(f"credential_{name}" for name in _credential_names())
        main = ("kind", "property", "display_name", "base_url", "poll_interval_seconds", "time_zone", "enabled")
        if obj is None:
            return [(None, {"fields": main}), ("Credentials", {"fields": credentials})]
        return [
            (None, {"fields": main}),
            (
                "Polling",
                {
                    "fields": (
                        ("status", "consecutive_failures"),
                        ("last_attempt_at", "last_success_at", "next_attempt_at"),
                        "last_error",
                        "last_run",
                        "runs_link",
                    )
                },
            ),
            ("Credentials (leave empty to keep)", {"fields": credentials}),
            (
                "Record",
                {
                    "fields": ("id", "kek_id", "created_at", "last_modified_at", "last_modified_by"),
                    "classes": ("collapse",),
                },
            ),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        """The form with one password field per credential the registered vendors take."""
        fields = {
            f"credential_{name}": forms.CharField(
                label=f"Credential: {name}", required=False, strip=False, widget=forms.PasswordInput(render_value=False)
            )
            for name in _credential_names()
        }
        kwargs["form"] = type("IntegrationAccountForm", (IntegrationAccountForm,), fields)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_queryset(self, request):
        latest = SyncRun.objects.order_by("-started_at", "-id")[:1]
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("sync_runs", queryset=latest, to_attr="latest_runs"))
        )

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            credentials = form.credentials(data["kind"]) or {}
            account = services.integration_account_create(
                prop=data["property"],
                kind=data["kind"],
                display_name=data["display_name"],
                base_url=data.get("base_url") or None,
                credentials=credentials,
                poll_interval_seconds=data.get("poll_interval_seconds"),
                time_zone=data.get("time_zone"),
                actor=self.actor(request),
            )
            if not data.get("enabled", True):
                services.integration_account_update(account=account, enabled=False, actor=self.actor(request))
            return account
        changes = {
            "display_name": data["display_name"],
            "poll_interval_seconds": data["poll_interval_seconds"],
            "time_zone": data.get("time_zone") or obj.time_zone,
            "enabled": data.get("enabled", False),
        }
        if data.get("base_url"):
            changes["base_url"] = data["base_url"]
        credentials = form.credentials(obj.kind)
        if credentials is not None:
            changes["credentials"] = credentials
        return services.integration_account_update(account=obj, actor=self.actor(request), **changes)

    def service_delete(self, request, obj):
        services.integration_account_delete(account=obj, actor=self.actor(request))

    @admin.action(description="Poll selected accounts now")
    def poll_now(self, request, queryset):
        polled = []
        for account in queryset:
            try:
                services.integration_account_poll_request(account=account, actor=self.actor(request))
            except ApplicationError as refusal:
                self.message_user(request, f"{account.display_name}: {refusal.message}", messages.ERROR)
            else:
                polled.append(account.display_name)
        if polled:
            self.message_user(request, f"Poll requested: {', '.join(polled)}.", messages.SUCCESS)

    @admin.action(description="Test connection of selected accounts")
    def test_connection(self, request, queryset):
        """The vendor's cheapest read, now, with the stored URL and credentials; one message per
        account in plain words. Changes nothing (the next poll sets the status)."""
        for account in queryset.select_related("property"):
            worked, message = services.integration_account_check(account=account)
            self.message_user(request, message, messages.SUCCESS if worked else messages.ERROR)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        """The status, and when an account that is not polling on schedule tries next (the list
        has no room for a column of its own; the account's page has the field), in the property's zone."""
        if obj.status == IntegrationAccountStatus.BACKING_OFF and obj.next_attempt_at:
            when = localtime(obj.next_attempt_at, ZoneInfo(obj.property.time_zone)).strftime("%Y-%m-%d %H:%M %Z")
            return f"{obj.get_status_display()} (next try {when})"
        return obj.get_status_display()

    @admin.display(description="last run")
    def last_run(self, obj):
        runs = getattr(obj, "latest_runs", None)
        if runs is None:
            runs = list(obj.sync_runs.order_by("-started_at", "-id")[:1])
        run = runs[0] if runs else None
        if run is None:
            return "—"
        # The counts that are not zero (a 1,366 px list has no room for five), fetched always.
        counts = [f"{run.fetched} fetched"] + [
            f"{value} {name}"
            for name, value in (("created", run.created), ("updated", run.updated), ("failed", run.failed))
            if value
        ]
        return f"{run.get_status_display()}: {', '.join(counts)}"

    @admin.display(description="last error")
    def short_error(self, obj):
        return (obj.last_error[:60] + "…") if len(obj.last_error) > 60 else obj.last_error

    @admin.display(description="sync runs")
    def runs_link(self, obj):
        url = reverse("admin:integrations_syncrun_changelist") + f"?account__id__exact={obj.pk}"
        return format_html('<a href="{}">All runs of {}</a>', url, obj.display_name)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyModelAdmin):
    """Every poll of every account, newest first, with its counts and error."""

    property_field = "account__property"

    list_display = (
        "started_at",
        "account",
        "property_name",
        "status",
        "trigger",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "failed",
        "error",
    )
    list_select_related = ("account", "account__property")
    list_filter = ("status", ("account", admin.RelatedOnlyFieldListFilter))
    search_fields = ("account__display_name", "error")
    ordering = ("-started_at",)
    date_hierarchy = "started_at"

    @admin.display(description="property", ordering="account__property__display_name")
    def property_name(self, obj):
        return obj.account.property.display_name


@admin.register(ParqExDoor)
class ParqExDoorAdmin(ReadOnlyModelAdmin):
    """ParqEx doors mirrored as locks: their controller, state, battery and whether still listed."""

    list_display = (
        "lock",
        "account",
        "controller_id",
        "blackbox_code",
        "entity_number",
        "door_state",
        "battery",
        "active",
        "user_relationship",
        "missing_since",
    )
    list_select_related = ("lock", "account")
    list_filter = (("account", admin.RelatedOnlyFieldListFilter), "active", "door_state")
    search_fields = ("lock__display_name", "door_id", "controller_id", "blackbox_code")

    @admin.display(description="battery")
    def battery(self, obj):
        return "unknown" if obj.battery_level is None else f"{obj.battery_level} %"


@admin.register(SmartphoneKeyPush)
class SmartphoneKeyPushAdmin(ReadOnlyModelAdmin):
    """Each native grant × SmartphoneKey account: pending, pushed (remote version) or failed (reason)."""

    list_display = ("person", "lock", "account", "state", "remote_version", "reason", "queued_at", "pushed_at")
    list_select_related = ("grant__user", "grant__lock", "account")
    list_filter = ("state", ("account", admin.RelatedOnlyFieldListFilter))
    search_fields = ("grant__user__display_name", "grant__lock__display_name", "reason")

    @admin.display(description="person", ordering="grant__user__display_name")
    def person(self, obj):
        return obj.grant.user.display_name

    @admin.display(description="lock", ordering="grant__lock__display_name")
    def lock(self, obj):
        return obj.grant.lock.display_name if obj.grant.lock else "—"


from apps.integrations.lockt import admin as lockt_admin  # noqa: E402, F401 - registers the Lockt pages
