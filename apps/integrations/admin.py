"""Staff admin for integration accounts and their sync runs (docs/INTEGRATIONS.md).

Every write goes through apps.integrations.services: add = integration_account_create, change =
integration_account_update (blank credential fields keep the stored ones), delete =
integration_account_delete, "Poll now" = integration_account_poll_request. Credentials are
typed into password fields and never shown back."""

from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timezone import localtime

from apps.core.admin_base import ReadOnlyModelAdmin, ServiceModelAdmin, actor_for_staff
from apps.core.exceptions import ApplicationError
from apps.integrations import registry, services
from apps.integrations.choices import IntegrationAccountStatus
from apps.integrations.lockt.credentials import lockt_fob_reassign
from apps.integrations.lockt.marks import lockt_mark_clear, lockt_mark_set
from apps.integrations.models import (
    IntegrationAccount,
    LocktCredential,
    LocktMark,
    LocktRecord,
    ParqExDoor,
    SmartphoneKeyPush,
    SyncRun,
)
from apps.integrations.selectors import lockt_account_people, lockt_record_object
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


@admin.register(LocktRecord)
class LocktRecordAdmin(ReadOnlyModelAdmin):
    """Every Lockt record an account's polls saw: the Keyhouse object it is (Lockt-owned, or
    Keyhouse-owned for people Keyhouse pushed), and for a failed one the field, value and
    reason. Filter by status "Failed" for what needs fixing in Lockt."""

    property_field = "account__property"
    list_display = (
        "label_or_id",
        "kind",
        "account",
        "keyhouse_object",
        "owner",
        "status",
        "error_field",
        "error_value",
        "error_reason",
        "updated_at",
    )
    list_select_related = ("account",)
    list_filter = ("status", "kind", ("account", admin.RelatedOnlyFieldListFilter))
    search_fields = ("label", "=external_id", "error_reason")
    ordering = ("account", "kind", "label")

    @staticmethod
    def _object_of(obj):
        if not hasattr(obj, "_keyhouse_object"):
            obj._keyhouse_object = lockt_record_object(obj)  # one lookup for both columns
        return obj._keyhouse_object

    @admin.display(description="Lockt record", ordering="label")
    def label_or_id(self, obj):
        return f"{obj.label} (Lockt id {obj.external_id})" if obj.label else f"Lockt id {obj.external_id}"

    @admin.display(description="Keyhouse object")
    def keyhouse_object(self, obj):
        found = self._object_of(obj)
        return found[0] if found else "— (not linked)"

    @admin.display(description="owned by")
    def owner(self, obj):
        found = self._object_of(obj)
        return found[1] if found else "—"


class MoveFobForm(forms.Form):
    """The intermediate page of "Move the selected fob…": the account's Lockt people."""

    holder = forms.ChoiceField(
        required=False, help_text="A person linked to a Lockt user of the fob's account; empty: nobody."
    )

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = [("", "— nobody —"), *((str(p.pk), p.display_name) for p in people)]


@admin.register(LocktCredential)
class LocktCredentialAdmin(ReadOnlyModelAdmin):
    """Lockt credentials and fobs, read-only, on their holders (managed in Lockt; a fob moved
    to another person is pushed with PUT /fob). Card numbers show their last 4 digits only."""

    property_field = "record__account__property"
    list_display = (
        "__str__",
        "kind",
        "holder_name",
        "card",
        "claim_status",
        "valid_from",
        "valid_until",
        "account",
        "sync",
    )
    list_select_related = ("record__account", "holder")
    list_filter = ("fob", "claim_status", ("record__account", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "holder__display_name", "=record__external_id", "=card_last4")
    exclude = ("card_last4",)
    readonly_fields = ("card",)
    ordering = ("record__account", "name")
    actions = ["move_fob"]

    def has_move_permission(self, request):
        return self.may_write_pages(request, "integrations.view_locktcredential")

    @admin.action(permissions=["move"], description="Move the selected fob to another person…")
    def move_fob(self, request, queryset):
        """One fob at a time: pick the new holder among the account's Lockt people (or nobody);
        lockt_fob_reassign marks it and requests the poll whose push sends PUT /fob."""
        fobs = list(queryset.filter(fob=True).select_related("record__account"))
        if len(fobs) != 1 or queryset.count() != 1:
            self.message_user(request, "Select exactly one fob to move.", messages.ERROR)
            return None
        fob = fobs[0]
        people = lockt_account_people(account=fob.record.account)
        form = MoveFobForm(request.POST if "apply" in request.POST else None, people=people)
        if form.is_valid():
            holder = next((p for p in people if str(p.pk) == form.cleaned_data["holder"]), None)
            try:
                lockt_fob_reassign(credential=fob, holder=holder, actor=self.actor(request))
            except ApplicationError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            to = holder.display_name if holder else "nobody"
            self.message_user(
                request, f"{fob.name} now goes to {to}; Lockt is told at the poll just requested.", messages.SUCCESS
            )
            return None
        return TemplateResponse(
            request,
            "admin/action_intermediate.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Move {fob.name}",
                "opts": self.opts,
                "queryset": queryset,
                "form": form,
                "action": "move_fob",
                "submit_label": "Move",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def actor(self, request):
        return actor_for_staff(request.user)

    @admin.display(description="kind", ordering="fob")
    def kind(self, obj):
        return "Fob" if obj.fob else "Credential"

    @admin.display(description="holder", ordering="holder__display_name")
    def holder_name(self, obj):
        return obj.holder.display_name if obj.holder else "—"

    @admin.display(description="card")
    def card(self, obj):
        return obj.card_masked or "—"

    @admin.display(description="Lockt account", ordering="record__account__display_name")
    def account(self, obj):
        return obj.record.account.display_name

    @admin.display(description="sync")
    def sync(self, obj):
        text = obj.record.get_status_display()
        return f"{text} · reassignment waiting for the next push" if obj.reassign_pending else text


class LocktMarkForm(forms.ModelForm):
    class Meta:
        model = LocktMark
        fields = ("account", "group", "lock")
        help_texts = {
            "group": "A Keyhouse custom group: pushed as a Lockt access level (its doors and schedules).",
            "lock": "Or a Keyhouse lock: pushed as a Lockt door.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = self.fields["account"].queryset.filter(kind="lockt")

    def clean(self):
        data = super().clean()
        if bool(data.get("group")) == bool(data.get("lock")):
            raise forms.ValidationError({"group": "Pick one group or one lock."})
        return data

    def _post_clean(self):
        """The model's own checks (group or lock) run in the service, with a named message."""


@admin.register(LocktMark)
class LocktMarkAdmin(ServiceModelAdmin):
    """Keyhouse groups and locks marked for a Lockt account: added with lockt_mark_set (the
    poll it requests pushes them), deleted ("unmarked") with lockt_mark_clear (Lockt's copy is
    deleted at the next poll). The state and the reason of a failed push are shown by name."""

    property_field = "account__property"
    form = LocktMarkForm
    list_display = ("__str__", "kind_shown", "target_name", "account", "state", "reason", "pushed_at")
    list_select_related = ("account", "group", "lock")
    list_filter = ("state", ("account", admin.RelatedOnlyFieldListFilter))
    search_fields = ("group__display_name", "lock__display_name", "reason")
    readonly_fields = ("account", "group", "lock", "state", "external_id", "reason", "marked_at", "pushed_at")
    ordering = ("account", "-marked_at")

    @admin.display(description="kind")
    def kind_shown(self, obj):
        return "Group → Lockt access level" if obj.group_id else "Lock → Lockt door"

    @admin.display(description="name")
    def target_name(self, obj):
        return (obj.group or obj.lock).display_name

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return LocktMarkForm.Meta.fields if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        return lockt_mark_set(
            account=data["account"], group=data.get("group"), lock=data.get("lock"), actor=self.actor(request)
        )

    def service_delete(self, request, obj):
        lockt_mark_clear(mark=obj, actor=self.actor(request))
