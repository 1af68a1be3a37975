"""Staff admin for locks: where each lock is (property, area), its derived access lines and
their version, read-only. Every write goes through apps.locks.services: add = lock_create (and
lock_install when an area is given), "install into area" = lock_install, uninstall =
lock_uninstall, rename = lock_update (events `lock.provisioned`, `lock.installed`,
`lock.uninstalled`, `lock.updated`); deprovision stays with the API (it answers a signed command
for the lock)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import OuterRef, Q, Subquery
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.access.admin.display import render_lock_lines
from apps.access.admin.door import who_can_open_view
from apps.access.models import LockAccessVersion
from apps.areas.admin import INDENT
from apps.areas.models import Area
from apps.areas.selectors import area_tree
from apps.core.admin_base import ServiceModelAdmin, scope_to_properties
from apps.core.exceptions import ApplicationError
from apps.locks import selectors, services
from apps.locks.models import Lock, LockHealth
from apps.properties.models import Property

UNINSTALL_MODES = [
    ("area", "Off its door: the lock stays in the property"),
    ("property", "Out of the property too"),
    ("property_owner", "Out of the property, and forget its owner"),
]
UNINSTALL_SERVICE_MODE = {"area": "area", "property": "property", "property_owner": "owner"}


class InstalledFilter(admin.SimpleListFilter):
    title = "installed"
    parameter_name = "installed"

    def lookups(self, request, model_admin):
        return [("yes", "In an area"), ("no", "In a property, not installed"), ("none", "In no property")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(area__isnull=False)
        if self.value() == "no":
            return queryset.filter(area__isnull=True, property__isnull=False)
        if self.value() == "none":
            return queryset.filter(property__isnull=True)
        return queryset


class KeyMapFilter(admin.SimpleListFilter):
    title = "signed key map"
    parameter_name = "key_map"

    def lookups(self, request, model_admin):
        return [("pending", "Newer map not acknowledged"), ("current", "Acknowledged the newest")]

    def queryset(self, request, queryset):
        from django.db.models import F

        if self.value() == "pending":
            return queryset.filter(applied_key_map_version__lt=F("signed_key_map_version"))
        if self.value() == "current":
            return queryset.filter(applied_key_map_version=F("signed_key_map_version"))
        return queryset


class AccessLogGapFilter(admin.SimpleListFilter):
    title = "access logs"
    parameter_name = "gaps"

    def lookups(self, request, model_admin):
        return [("yes", "Some missing (gaps)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(access_log_gaps__isnull=False).distinct()
        return queryset


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Locks whose health needs someone (docs/INTEGRATIONS.md "Lock health")."""

    title = "health"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", "Needs attention"), ("no", "Reported, all well"), ("unknown", "No report yet")]

    def queryset(self, request, queryset):
        attention = (
            Q(health__battery_low=True) | Q(health__online=False) | Q(health__held_open=True) | Q(health__stale=True)
        )
        if self.value() == "yes":
            return queryset.filter(health__isnull=False).filter(attention)
        if self.value() == "no":
            return queryset.filter(health__isnull=False).exclude(attention)
        if self.value() == "unknown":
            return queryset.filter(health__isnull=True)
        return queryset


def _health(lock: Lock) -> LockHealth | None:
    try:
        return lock.health
    except LockHealth.DoesNotExist:
        return None


class LockChangeList(ChangeList):
    """Computes the page's required firmware versions in one query (not one per row)."""

    def get_results(self, request):
        super().get_results(request)
        required = selectors.required_firmware_versions_for_locks(self.result_list)
        for lock in self.result_list:
            lock.required_firmware = required.get(lock.pk)


class LockForm(forms.ModelForm):
    class Meta:
        model = Lock
        fields = ("display_name", "property", "owner", "area")
        labels = {"area": "Install into area"}
        help_texts = {"area": "Optional. Must be in the lock's property. Clear it to take the lock off its door."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "property" in self.fields:
            self.fields["property"].queryset = Property.objects.alive().order_by("display_name")
            self.fields["property"].help_text = "Leave empty to take it from the area (or to provision it unplaced)."
        if "area" in self.fields:
            self.fields["area"].queryset = Area.objects.alive()


class AreaChoiceForm(forms.Form):
    """The intermediate page of "Install selected locks into an area…"."""

    area = forms.ChoiceField(label="Area")

    def __init__(self, *args, properties, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        for prop in properties:
            areas = area_tree(property_id=prop.pk)
            choices.append((prop.display_name, [(str(a.pk), f"{INDENT * a.depth}{a.display_name}") for a in areas]))
        self.fields["area"].choices = choices


class UninstallForm(forms.Form):
    mode = forms.ChoiceField(label="Uninstall", choices=UNINSTALL_MODES, initial="area", widget=forms.RadioSelect)


@admin.register(Lock)
class LockAdmin(ServiceModelAdmin):
    property_field = "property"

    """Locks of every property with their area, access-lines version and signed key map; the
    change page shows the lines the lock enforces (as the workers last derived them)."""

    form = LockForm
    change_form_template = "admin/locks/lock/change_form.html"
    # Eight short columns: the list fits a 1366 px screen beside the navigation and the filters
    # (owner and the lines' details are on the lock page; door, battery and contact share one).
    list_display = (
        "display_name",
        "property",
        "area",
        "access_lines",
        "signed_map",
        "last_sync",
        "firmware",
        "health_summary",
    )
    list_select_related = ("property", "area", "health")
    list_filter = (
        ("property", admin.RelatedOnlyFieldListFilter),
        NeedsAttentionFilter,
        InstalledFilter,
        KeyMapFilter,
        AccessLogGapFilter,
    )
    search_fields = ("display_name", "=id", "area__display_name", "property__display_name")
    ordering = ("property__display_name", "display_name")
    autocomplete_fields = ("owner", "area")
    actions = ["install", "uninstall"]
    service_error_fields = {"areaId": "area", "uninstallMode": None}
    readonly_fields = (
        "property",
        "owner",
        "install_date",
        "current_firmware_version",
        "access_lines_version",
        "access_lines_computed_at",
        "lines",
        "id",
        "created_at",
        "last_modified_at",
        "last_modified_by",
        "signed_key_map_version",
        "applied_key_map_version",
        "applied_at",
        "signed_key_map_not_after",
        "reported_key_map_version",
        "last_known_sync_date",
        "last_sync_sequence",
        "last_known_access_date",
        "access_log_high_sequence",
        "missing_access_logs",
        "lock_kid",
    )

    class Media:
        css = {"all": ["keyhouse/admin.css"]}

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("display_name", "property", "owner", "area")})]
        return [
            (None, {"fields": ("display_name", "property", "area", "install_date", "owner")}),
            ("Access lines", {"fields": ("access_lines_version", "access_lines_computed_at", "lines")}),
            (
                "Syncing with Keyhouse",
                {
                    "description": "The key map is the signed list of who may open this door; the lock "
                    "downloads it when it syncs and confirms which one it uses.",
                    "fields": (
                        "lock_kid",
                        ("signed_key_map_version", "applied_key_map_version", "applied_at"),
                        ("signed_key_map_not_after", "reported_key_map_version"),
                        ("last_known_sync_date", "last_sync_sequence"),
                        ("last_known_access_date", "access_log_high_sequence", "missing_access_logs"),
                    ),
                },
            ),
            (
                "Record",
                {
                    "fields": ("current_firmware_version", "id", "created_at", "last_modified_at", "last_modified_by"),
                    "classes": ("collapse",),
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_queryset(self, request):
        lines_version = LockAccessVersion.objects.filter(lock_id=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .alive()
            .annotate(
                access_lines_version_n=Subquery(lines_version.values("version")[:1]),
                line_count_n=Subquery(lines_version.values("entry_count")[:1]),
            )
        )

    def has_delete_permission(self, request, obj=None):
        return False  # no lock delete service yet: uninstall instead

    def autocomplete_label(self, obj) -> str:
        where = obj.area.display_name if obj.area_id else "not installed"
        return f"{obj.display_name} · {where} · {obj.property.display_name if obj.property_id else 'no property'}"

    @admin.display(description="access lines version", ordering="access_lines_version_n")
    def access_lines_version(self, obj):
        version = getattr(obj, "access_lines_version_n", None)
        if version is None:
            version = LockAccessVersion.objects.filter(lock_id=obj.pk).values_list("version", flat=True).first()
        return "— (not derived yet)" if version is None else version

    @admin.display(description="lines", ordering="line_count_n")
    def line_count(self, obj):
        return "—" if obj.line_count_n is None else obj.line_count_n

    @admin.display(description="access lines", ordering="line_count_n")
    def access_lines(self, obj):
        """ "12 (v3)": how many lines the lock enforces, and their version."""
        if obj.access_lines_version_n is None:
            return "—"
        return f"{obj.line_count_n} (v{obj.access_lines_version_n})"

    def get_changelist(self, request, **kwargs):
        return LockChangeList

    @admin.display(description="key map (applied / newest)")
    def signed_map(self, obj):
        """The key map the lock acknowledged (signed ack, PROTOCOL.md §8) against the newest signed."""
        if not obj.signed_key_map_version:
            return "—"
        text = f"{obj.applied_key_map_version} / {obj.signed_key_map_version}"
        return format_html("<strong>{} pending</strong>", text) if obj.key_map_pending else text

    @admin.display(description="last sync", ordering="last_known_sync_date")
    def last_sync(self, obj):
        if obj.last_known_sync_date is None:
            return "never"
        return timezone.localtime(obj.last_known_sync_date).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="firmware")
    def firmware(self, obj):
        required = getattr(obj, "required_firmware", None)
        reported = obj.current_firmware_version or "?"
        if required is None:
            return reported
        return reported if reported == required else format_html("<strong>{} → {}</strong>", reported, required)

    @admin.display(description="door")
    def door(self, obj):
        health = _health(obj)
        if health is None or health.door_state == "unknown":
            return "—"
        return format_html("<strong>held open</strong>") if health.held_open else health.door_state

    @admin.display(description="battery")
    def battery(self, obj):
        health = _health(obj)
        if health is None or health.battery_level is None:
            return "—"
        text = f"{health.battery_level} %"
        return format_html("<strong>{} low</strong>", text) if health.battery_low else text

    @admin.display(description="contact")
    def contact(self, obj):
        """online / offline as the source last saw it; stale when its integration is failing."""
        health = _health(obj)
        if health is None:
            return "no report"
        state = "online" if health.online else format_html("<strong>offline</strong>")
        if health.stale:
            return format_html("{} · <strong>stale: its integration is failing</strong>", state)
        return state

    @admin.display(description="health")
    def health_summary(self, obj):
        """Door · battery · contact in one column (the list must fit 1366 px)."""
        if _health(obj) is None:
            return "no report"
        return format_html_join(
            " · ", "{}", ((part,) for part in (self.door(obj), self.battery(obj), self.contact(obj)))
        )

    @admin.display(description="missing access logs")
    def missing_access_logs(self, obj):
        gaps = list(selectors.access_log_gaps(lock=obj))
        if not gaps:
            return "none"
        return ", ".join(
            f"{g.first_sequence}–{g.last_sequence}" if g.missing > 1 else str(g.first_sequence) for g in gaps
        )

    @admin.display(description="lock key fingerprint")
    def lock_kid(self, obj):
        return selectors.lock_kids([obj.pk]).get(obj.pk) or "—"

    @admin.display(description="access lines derived at")
    def access_lines_computed_at(self, obj):
        lines_version = LockAccessVersion.objects.filter(lock_id=obj.pk).first()
        if lines_version is None:
            return "—"
        return timezone.localtime(lines_version.computed_at).strftime("%Y-%m-%d %H:%M:%S %Z")

    @admin.display(description="lines the lock enforces")
    def lines(self, obj):
        if obj.area_id is None:
            return "— (not installed: it opens for nobody)"
        return render_lock_lines([obj])

    def get_urls(self):
        who = self.admin_site.admin_view(lambda request, object_id: who_can_open_view(self, request, object_id))
        return [path("<path:object_id>/who/", who, name="locks_lock_who"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        lock = self.get_object(request, object_id)
        if lock is not None and lock.property_id:
            url = f"{reverse('admin:access_explain')}?property={lock.property_id}&lock={lock.pk}"
            who = reverse("admin:locks_lock_who", args=[lock.pk])
            extra_context = {**(extra_context or {}), "explain_url": url, "who_url": who}
        return super().change_view(request, object_id, form_url, extra_context)

    def service_save(self, request, obj, form, change):
        data, actor = form.cleaned_data, self.actor(request)
        area = data.get("area")
        if not change:
            lock = services.lock_create(
                display_name=data["display_name"], prop=data.get("property"), owner=data.get("owner"), actor=actor
            )
            return services.lock_install(lock=lock, area=area, actor=actor) if area is not None else lock
        if "display_name" in data:  # rename: lock_update (event lock.updated only when it changed)
            obj = services.lock_update(lock=obj, display_name=data["display_name"], actor=actor)
        installed_in = Lock.objects.filter(pk=obj.pk).values_list("area_id", flat=True).get()
        if area is None and installed_in is not None:
            return services.lock_uninstall(lock=obj, mode="area", actor=actor)
        if area is not None and area.pk != installed_in:
            return services.lock_install(lock=obj, area=area, actor=actor)
        return obj

    @admin.action(permissions=["change"], description="Install selected locks into an area…")
    def install(self, request, queryset):
        """Ask for an area (of the locks' property), then lock_install each lock."""
        property_ids = set(queryset.values_list("property_id", flat=True))
        if len(property_ids - {None}) > 1:
            self.message_user(request, "Select locks of one property to install them together.", messages.ERROR)
            return None
        properties = scope_to_properties(Property.objects.alive(), request.user, "pk").order_by("display_name")
        if property_ids != {None}:
            properties = properties.filter(pk__in=property_ids - {None})
        form = AreaChoiceForm(request.POST if "apply" in request.POST else None, properties=list(properties))
        if form.is_valid():
            area = Area.objects.get(pk=form.cleaned_data["area"])
            self._each(request, queryset, "Installed {} lock(s) in " + str(area), services.lock_install, area=area)
            return None
        return self._intermediate(request, queryset, form, "install", "Install", "Install locks into an area")

    @admin.action(permissions=["change"], description="Uninstall selected locks…")
    def uninstall(self, request, queryset):
        """Ask how far (off the door, out of the property, forget the owner), then lock_uninstall."""
        form = UninstallForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            mode = UNINSTALL_SERVICE_MODE[form.cleaned_data["mode"]]
            self._each(request, queryset, "Uninstalled {} lock(s)", services.lock_uninstall, mode=mode)
            return None
        return self._intermediate(request, queryset, form, "uninstall", "Uninstall", "Uninstall locks")

    def _each(self, request, queryset, done: str, service, **kwargs) -> None:
        count = 0
        for lock in queryset:
            try:
                service(lock=lock, actor=self.actor(request), **kwargs)
            except ApplicationError as refusal:
                self.message_user(request, f"{lock}: {refusal.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done.format(count) + ".", messages.SUCCESS)

    def _intermediate(self, request, queryset, form, action: str, label: str, title: str):
        return TemplateResponse(
            request,
            "admin/action_intermediate.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.opts,
                "queryset": queryset,
                "form": form,
                "action": action,
                "submit_label": label,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )
