"""Staff admin for the access model. Every write goes through a service (events appended):

- user groups and members: user_group_create / update / delete, membership_add / remove;
- schedules: a weekly grid over the windows JSON (static/keyhouse/schedule_grid.js),
  schedule_create / update / delete;
- the access-list editor on the area page: areas.services.area_update;
- grants (grant_create, the "revoke" action; rows are never deleted) and blocks
  (block_create / block_delete);
- "Explain access" (selectors.access_explain) with the person's stored access map.

Derived rows (LockAccessEntry, LockKeyMap, UserAccessMap) are not registered: they are shown,
read-only, on the area, lock and explain pages.
"""

import json
import re
import uuid
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.forms import formset_factory
from django.shortcuts import render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.access import schedules as sched
from apps.access import selectors, services
from apps.access.models import (
    AccessBlock,
    AccessGrant,
    LockAccessEntry,
    LockKeyMap,
    Membership,
    Schedule,
    UserAccessMap,
    UserGroup,
    UserGroupGroupSource,
)
from apps.accounts.models import User
from apps.areas import services as area_services
from apps.areas.admin import INDENT, AreaAdmin, AreaForm
from apps.areas.models import Area
from apps.areas.selectors import area_tree
from apps.core.admin_base import ServiceModelAdmin, count_of
from apps.core.exceptions import ApplicationError
from apps.events.models import Event
from apps.locks.models import Lock
from apps.properties.models import Property


class MemberInline(admin.TabularInline):
    """The group's members, read-only; tick "delete" to take someone out of the group."""

    model = Membership
    verbose_name = "member"
    verbose_name_plural = "members"
    fields = ("member", "created_at", "created_by")
    readonly_fields = fields
    extra = 0
    can_delete = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").order_by("user__display_name", "user__email")

    def has_add_permission(self, request, obj=None):
        return False  # new members come in through MemberAddInline

    @admin.display(description="member")
    def member(self, membership):
        url = reverse("admin:accounts_user_change", args=[membership.user_id])
        return format_html('<a href="{}">{}</a>', url, membership.user)


class MemberAddForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.alive()


class MemberAddInline(admin.TabularInline):
    """Empty rows with an autocomplete: each picked person is added to the group."""

    model = Membership
    form = MemberAddForm
    verbose_name = "member"
    verbose_name_plural = "add members"
    fields = ("user",)
    autocomplete_fields = ("user",)
    extra = 1
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None):
        return False


class UserGroupAddForm(forms.ModelForm):
    class Meta:
        model = UserGroup
        fields = ("property", "display_name", "group_type")
        help_texts = {"group_type": "Custom group. Property and area groups are made with their property or area."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["property"].queryset = Property.objects.alive().order_by("display_name")


@admin.register(UserGroup)
class UserGroupAdmin(ServiceModelAdmin):
    """User groups of every property, with their members."""

    add_form = UserGroupAddForm
    list_display = ("display_name", "property", "group_type", "group_source", "area", "member_count")
    list_select_related = ("property", "area")
    list_filter = (("property", admin.RelatedOnlyFieldListFilter), "group_type", "group_source")
    search_fields = ("display_name", "property__display_name", "=id")
    ordering = ("property__display_name", "group_source", "display_name")
    readonly_fields = ("property", "group_type", "group_source", "area", "id", "created_at", "last_modified_by")
    service_error_fields = {"displayName": "display_name"}

    class Media:
        css = {"all": ["keyhouse/admin.css"]}

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("property", "display_name", "group_type")})]
        return [
            (None, {"fields": ("display_name", "property", "group_type", "group_source", "area")}),
            ("Record", {"fields": ("id", "created_at", "last_modified_by"), "classes": ("collapse",)}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [MemberAddInline] if obj is None else [MemberInline, MemberAddInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).alive().select_related("property")
        return queryset.annotate(member_count=count_of(Membership.objects.all(), through="user_group"))

    def has_delete_permission(self, request, obj=None):
        # Area and property groups go only with their area or property (user_group_delete says so).
        if obj is not None and obj.group_source != UserGroupGroupSource.CUSTOM:
            return False
        return super().has_delete_permission(request, obj)

    def autocomplete_label(self, obj) -> str:
        return f"{obj.display_name} · {obj.property.display_name}"

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj):
        url = f"{reverse('admin:accounts_user_changelist')}?group={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.member_count)

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            return services.user_group_update(group=obj, display_name=data["display_name"], actor=self.actor(request))
        return services.user_group_create(
            prop=data["property"],
            display_name=data["display_name"],
            group_type=data["group_type"],
            actor=self.actor(request),
        )

    def save_related(self, request, form, formsets, change):
        """Members out (ticked rows of MemberInline), then members in (rows of MemberAddInline)."""
        group = UserGroup.objects.get(pk=form.instance.pk)
        actor = self.actor(request)
        for formset in formsets:
            for member_form in formset.deleted_forms:
                services.membership_remove(group=group, user=member_form.instance.user, actor=actor)
        for formset in formsets:
            for member_form in formset.forms:
                user = member_form.cleaned_data.get("user")
                if not (user is not None and member_form.has_changed()):
                    continue
                if not services.membership_add(group=group, user=user, actor=actor):
                    self.message_user(request, f"{user} was already in the group.", messages.INFO)

    def service_delete(self, request, obj):
        services.user_group_delete(group=obj, actor=self.actor(request))


# --- shared display helpers (also used by apps.locks.admin) ----------------------------------


def admin_link(obj, label=None) -> str:
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or obj)


class FieldPaths(dict):
    """`service_error_fields` keyed by the first name of a field path, so a refusal naming
    `windows[1].stop` or `accessList[0].areaId` lands on the form field for `windows`."""

    def get(self, name, default=None):
        return super().get(re.split(r"[.\[]", name, maxsplit=1)[0], default)


class AccessNames:
    """Display names of one property's areas, groups, schedules and locks (and of the people
    `user_ids` name), one query each, so derived lines and explain paths read as words."""

    def __init__(self, property_id, *, user_ids=()):
        def names(model) -> dict[str, str]:
            rows = model.objects.filter(property_id=property_id).values_list("id", "display_name")
            return {str(pk): name for pk, name in rows}

        self.areas, self.groups = names(Area), names(UserGroup)
        self.schedules, self.locks = names(Schedule), names(Lock)
        people = User.objects.filter(pk__in=[u for u in user_ids if u]).values_list("id", "display_name", "email")
        self.users = {str(pk): name or email for pk, name, email in people}

    @staticmethod
    def _of(table: dict, key) -> str:
        return table.get(str(key), str(key)) if key else "—"

    def area(self, key) -> str:
        return self._of(self.areas, key)

    def group(self, key) -> str:
        return self._of(self.groups, key)

    def schedule(self, key) -> str:
        return self._of(self.schedules, key) if key else "always"

    def lock(self, key) -> str:
        return self._of(self.locks, key)

    def user(self, key) -> str:
        return self._of(self.users, key)

    def source(self, source: str) -> str:
        """A derived line's `source` in words (compute.LockEntry / UserEntry `source`)."""
        if source.startswith("group:"):
            group_id, _, rest = source.removeprefix("group:").partition("|")
            return f"member of {self.group(group_id)}, {self.source(rest)}"
        kind, _, rest = source.partition(":")
        if kind == "accessList":
            area_id, _, index = rest.rpartition(":")
            return f"access list entry #{index} of {self.area(area_id)}"
        if kind == "areaGroup":
            return f"own group of {self.area(rest)}"
        if kind == "grant":
            return "personal grant"
        if kind == "block":
            return "blocked at this property"
        return source


def _validity(valid_from, valid_until) -> str:
    def text(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z") if value else ""

    if valid_from and valid_until:
        return f"{text(valid_from)} – {text(valid_until)}"
    if valid_from:
        return f"from {text(valid_from)}"
    if valid_until:
        return f"until {text(valid_until)}"
    return "—"


LINE_KINDS = {"group": "group", "user": "person", "open": "anyone (free passage)", "deny": "denied (blocked)"}


def lock_lines(locks) -> list[dict]:
    """For each lock (all of one property): its key-map version and its derived lines in words,
    read from LockKeyMap / LockAccessEntry as the workers last wrote them."""
    locks = list(locks)
    if not locks:
        return []
    lock_ids = [lock.pk for lock in locks]
    key_maps = {m.lock_id: m for m in LockKeyMap.objects.filter(lock_id__in=lock_ids)}
    rows = defaultdict(list)
    for row in LockAccessEntry.objects.filter(lock_id__in=lock_ids).order_by("kind", "source", "id"):
        rows[row.lock_id].append(row)
    people = {row.subject_id for lines in rows.values() for row in lines if row.kind in ("user", "deny")}
    names = AccessNames(locks[0].property_id, user_ids=people)
    out = []
    for lock in locks:
        lines = []
        for row in rows.get(lock.pk, []):
            if row.kind == "group":
                who = names.group(row.subject_id)
            elif row.kind in ("user", "deny"):
                who = names.user(row.subject_id)
            else:
                who = "anyone"
            lines.append(
                {
                    "kind": LINE_KINDS.get(row.kind, row.kind),
                    "css": row.kind,
                    "who": who,
                    "schedule": names.schedule(row.schedule_id),
                    "validity": _validity(row.valid_from, row.valid_until),
                    "source": names.source(row.source),
                }
            )
        key_map = key_maps.get(lock.pk)
        out.append(
            {
                "lock": lock,
                "url": reverse("admin:locks_lock_change", args=[lock.pk]),
                "explain_url": f"{reverse('admin:access_explain')}?property={lock.property_id}&lock={lock.pk}",
                "version": key_map.version if key_map else None,
                "computed_at": key_map.computed_at if key_map else None,
                "lines": lines,
            }
        )
    return out


def actor_text(label: str) -> str:
    """An actor label (apps.core.actors) for people: "staff:<id>" names the staff member."""
    kind, _, pk = label.partition(":")
    if kind == "staff" and _is_uuid(pk):
        person = User.objects.filter(pk=pk).first()
        if person is not None:
            return f"staff: {person}"
    return label


def pending_event_count(property_id) -> int:
    """Events of the property not yet processed: derived rows may still lag behind them."""
    return Event.objects.unprocessed().filter(property_id=property_id).count()


# --- schedules --------------------------------------------------------------------------


class WindowsField(forms.JSONField):
    """The windows JSON, one window per line (what the grid writes and the service reads)."""

    def prepare_value(self, value):
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            if not value:
                return "[]"
            return "[\n" + ",\n".join(f"  {json.dumps(item, ensure_ascii=False)}" for item in value) + "\n]"
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
            "valid_from": "Optional: the schedule opens nothing before this instant (server time).",
            "valid_until": "Optional: the schedule opens nothing from this instant on (server time).",
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
class ScheduleAdmin(ServiceModelAdmin):
    """Schedules per property; the change page edits the weekly windows on a grid."""

    form = ScheduleForm
    list_display = ("display_name", "property", "windows_text", "valid_from", "valid_until", "last_modified_at")
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


# --- access list on the area page ---------------------------------------------------------

ACCESS_TYPE_CHOICES = [
    ("group", "User group"),
    ("area", "Members of an area"),
    ("schedule", "Anyone (free passage)"),
]
TARGET_FIELD = {"group": "user_group", "area": "area", "schedule": "schedule"}
ENTRY_KEY = {"user_group": "userGroupId", "area": "areaId", "schedule": "scheduleId"}


def access_list_choices(prop) -> dict[str, list]:
    """The pickers of an access-list row, limited to the area's property (built once a page)."""
    buckets = {source: [] for source in UserGroupGroupSource.values}
    groups = UserGroup.objects.alive().filter(property=prop).order_by("display_name")
    for pk, name, source in groups.values_list("id", "display_name", "group_source"):
        buckets[source].append((str(pk), name))
    schedules = selectors.schedule_list(property_id=prop.pk).order_by("display_name")
    return {
        "user_group": [
            ("", "—"),
            ("Property groups", buckets[UserGroupGroupSource.PROPERTY]),
            ("Custom groups", buckets[UserGroupGroupSource.CUSTOM]),
            ("Area groups", buckets[UserGroupGroupSource.AREA]),
        ],
        "area": [("", "—")]
        + [(str(area.pk), f"{INDENT * area.depth}{area.display_name}") for area in area_tree(property_id=prop.pk)],
        "schedule": [("", "—")] + [(str(pk), name) for pk, name in schedules.values_list("id", "display_name")],
    }


class AccessListEntryForm(forms.Form):
    """One spec AccessListEntry: who (a group, an area's members, or anyone) and, optionally,
    only during a schedule (for "anyone" the schedule is required: it is the free passage)."""

    access_type = forms.ChoiceField(label="type", choices=ACCESS_TYPE_CHOICES, initial="group")
    user_group = forms.ChoiceField(label="user group", required=False)
    area = forms.ChoiceField(label="area", required=False)
    schedule = forms.ChoiceField(label="schedule", required=False)

    def __init__(self, *args, choices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for name, options in choices.items():
            self.fields[name].choices = options

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("access_type")
        if kind not in TARGET_FIELD:
            return cleaned
        target = TARGET_FIELD[kind]
        if not cleaned.get(target):
            self.add_error(target, f"Choose the {self.fields[target].label} of this entry.")
        for name in ("user_group", "area"):
            if name != target and cleaned.get(name):
                self.add_error(name, f"Leave empty: a {kind} entry names no {self.fields[name].label}.")
        return cleaned

    def entry(self) -> dict:
        kind = self.cleaned_data["access_type"]
        entry = {"accessType": kind, ENTRY_KEY[TARGET_FIELD[kind]]: self.cleaned_data[TARGET_FIELD[kind]]}
        if self.cleaned_data.get("schedule"):
            entry["scheduleId"] = self.cleaned_data["schedule"]
        return entry


AccessListFormSet = formset_factory(AccessListEntryForm, extra=1, can_delete=True)
ACCESS_LIST_PREFIX = "accesslist"


def _entry_initial(entry: dict) -> dict:
    return {
        "access_type": entry.get("accessType"),
        "user_group": entry.get("userGroupId", ""),
        "area": entry.get("areaId", ""),
        "schedule": entry.get("scheduleId", ""),
    }


class AreaAccessForm(AreaForm):
    """The area form plus, on the change page, its access list as a formset (`access_list`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.access_list = None
        if not self.instance._state.adding:  # an Entity has its id before it is saved
            # A post without the formset (an older form, a script) leaves the access list alone.
            posted = self.is_bound and f"{ACCESS_LIST_PREFIX}-TOTAL_FORMS" in self.data
            self.access_list = AccessListFormSet(
                self.data if posted else None,
                initial=[_entry_initial(entry) for entry in self.instance.access_list or []],
                prefix=ACCESS_LIST_PREFIX,
                form_kwargs={"choices": access_list_choices(self.instance.property)},
            )

    def clean(self):
        cleaned = super().clean()
        if self.access_list is not None and self.access_list.is_bound:
            if self.access_list.is_valid():
                cleaned["access_list"] = [
                    form.entry()
                    for form in self.access_list.forms
                    if form.cleaned_data and not form.cleaned_data.get("DELETE")
                ]
            else:
                self.add_error(None, "The access list has errors: see its rows below.")
        return cleaned

    @property
    def changed_data(self):
        changed = super().changed_data
        if self.access_list is not None and self.access_list.is_bound and self.access_list.has_changed():
            return [*changed, "access list"]
        return changed


admin.site.unregister(Area)


@admin.register(Area)
class AreaAccessAdmin(AreaAdmin):
    """The directory's area admin (apps.areas.admin) plus the access model's part of the page:
    the access-list editor (saved with areas.services.area_update in the same call as a rename
    or move), accessListVersion, and each installed lock's derived lines, read-only."""

    form = AreaAccessForm
    change_form_template = "admin/access/area/change_form.html"
    service_error_fields = FieldPaths(AreaAdmin.service_error_fields, accessList=None)

    class Media:
        css = {"all": ["keyhouse/admin.css"]}
        js = ["keyhouse/access_list.js"]

    def get_fieldsets(self, request, obj=None):
        return [fieldset for fieldset in super().get_fieldsets(request, obj) if fieldset[0] != "Access list"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        area = self.get_object(request, object_id)
        if area is not None:
            locks = Lock.objects.alive().filter(area=area).order_by("display_name")
            extra_context = {
                **(extra_context or {}),
                "lock_lines": lock_lines(locks),
                "pending_events": pending_event_count(area.property_id),
                "explain_url": f"{reverse('admin:access_explain')}?property={area.property_id}",
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def service_save(self, request, obj, form, change):
        if not change:
            return super().service_save(request, obj, form, change)
        data = form.cleaned_data
        try:
            return area_services.area_update(
                area=obj,
                display_name=data["display_name"],
                parent_id=data["parent"].pk if data.get("parent") else None,
                access_list=data.get("access_list"),
                actor=self.actor(request),
            )
        except ApplicationError as refusal:
            if refusal.fields and all(name.startswith("accessList") for name in refusal.fields):
                detail = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in refusal.fields.items())
                raise ApplicationError(f"The access list was refused: {detail}", fields=refusal.fields) from None
            raise


# --- grants -----------------------------------------------------------------------------


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
            "valid_from": "Optional (server time).",
            "valid_until": "Server time. Required for GUEST grants: guest access must end.",
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
class AccessGrantAdmin(ServiceModelAdmin):
    """Personal grants. Added through grant_create, ended with the "revoke" action (grant_revoke);
    a grant's row stays forever, so it is never edited or deleted here."""

    add_form = AccessGrantAddForm
    change_form_template = "admin/access/accessgrant/change_form.html"
    change_list_template = "admin/access/accessgrant/change_list.html"
    list_display = ("user", "target", "property", "access_level", "state", "validity")
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
        "valid_from",
        "valid_until",
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
            ("Validity", {"fields": ("valid_from", "valid_until", "expired_at")}),
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

    @admin.display(description="lock or area")
    def target(self, obj):
        if obj.lock_id:
            return format_html("{} {}", "lock", admin_link(obj.lock))
        return format_html("{} {}", "area", admin_link(obj.area))

    @admin.display(description="valid")
    def validity(self, obj):
        return _validity(obj.valid_from, obj.valid_until)

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

    # --- "Explain access" -------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view(self.explain_view)
        return [path("explain/", view, name="access_explain"), *super().get_urls()]

    def explain_view(self, request):
        """Pick a property, a person, a lock and a time: allowed or denied, through which paths
        (selectors.access_explain), and the person's stored access map at the property."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        prop = _alive_or_none(Property, request.GET.get("property"))
        tz = ZoneInfo(prop.time_zone) if prop else ZoneInfo("UTC")
        initial = {"property": prop, "at": timezone.now().astimezone(tz).strftime(EXPLAIN_TIME_FORMAT)}
        initial |= {name: request.GET[name] for name in ("user", "lock") if _is_uuid(request.GET.get(name))}
        with timezone.override(tz):
            form = ExplainForm(request.GET if "explain" in request.GET else None, prop=prop, initial=initial)
            context = {
                **self.admin_site.each_context(request),
                "title": "Explain access",
                "opts": self.opts,
                "form": form,
                "media": self.media + form.media,
                "time_zone": tz.key,
                "prop": prop,
            }
            if form.is_bound and form.is_valid():
                context.update(explain_context(form.cleaned_data))
            return render(request, "admin/access/explain.html", context)


EXPLAIN_TIME_FORMAT = "%Y-%m-%dT%H:%M"


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _alive_or_none(model, pk):
    return model.objects.alive().filter(pk=pk).first() if _is_uuid(pk) else None


class ExplainForm(forms.Form):
    """The question: this person, at this lock of this property, at this local time."""

    property = forms.ModelChoiceField(queryset=Property.objects.alive().order_by("display_name"))
    user = forms.ModelChoiceField(
        label="Person",
        queryset=User.objects.alive(),
        widget=AutocompleteSelect(AccessGrant._meta.get_field("user"), admin.site),
    )
    lock = forms.ChoiceField(help_text="Installed locks of the property, by area.")
    at = forms.DateTimeField(
        label="Time",
        input_formats=[EXPLAIN_TIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=EXPLAIN_TIME_FORMAT),
    )

    def __init__(self, *args, prop=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.prop = prop
        by_area = defaultdict(list)
        if prop is not None:
            locks = Lock.objects.alive().filter(property=prop, area__isnull=False).order_by("display_name")
            for lock in locks.only("id", "display_name", "area_id"):
                by_area[lock.area_id].append((str(lock.pk), lock.display_name))
            self.fields["at"].help_text = f"Local time in {prop.time_zone}."
        areas = area_tree(property_id=prop.pk) if prop is not None else []
        self.fields["lock"].choices = [("", "—")] + [
            (area.display_name, by_area[area.pk]) for area in areas if by_area.get(area.pk)
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("lock"):  # one of the choices: an installed lock of `prop`
            cleaned["lock"] = Lock.objects.get(pk=cleaned["lock"])
        return cleaned


def explain_context(data: dict) -> dict:
    """The answer for the page: explain's verdict and paths, and the person's stored map."""
    prop, user, lock, at = data["property"], data["user"], data["lock"], data["at"]
    result = selectors.access_explain(prop=prop, user=user, lock=lock, at=at)
    access_map = UserAccessMap.objects.filter(user_id=user.pk, property_id=prop.pk).first()
    entries = access_map.entries if access_map else []
    names = AccessNames(prop.pk)
    effective = [
        {
            "lock": names.lock(entry["lockId"]),
            "url": reverse("admin:locks_lock_change", args=[entry["lockId"]]),
            "chosen": entry["lockId"] == str(lock.pk),
            "schedule": names.schedule(entry.get("scheduleId")),
            "validity": _validity(_timestamp(entry.get("validFrom")), _timestamp(entry.get("validUntil"))),
            "source": names.source(entry["source"]),
        }
        for entry in sorted(entries, key=lambda e: (names.lock(e["lockId"]).casefold(), e["source"]))
    ]
    local = at.astimezone(ZoneInfo(prop.time_zone))
    return {
        "result": result,
        "asked": {
            "user": user,
            "lock": lock,
            "area": lock.area,
            "at": f"{local:%a %d %b %Y %H:%M} {prop.time_zone} ({at.astimezone(ZoneInfo('UTC')):%H:%M} UTC)",
        },
        "effective": effective,
        "access_map": access_map,
        "effective_lock_count": len({entry["lockId"] for entry in entries}),
        "pending_events": pending_event_count(prop.pk),
    }


def _timestamp(value: str | None):
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


# --- blocks -----------------------------------------------------------------------------


def block_label(block: AccessBlock) -> str:
    return f"{block.user} blocked at {block.property}"


class AccessBlockForm(forms.ModelForm):
    class Meta:
        model = AccessBlock
        fields = ("property", "user", "reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["property"].queryset = Property.objects.alive().order_by("display_name")


@admin.register(AccessBlock)
class AccessBlockAdmin(ServiceModelAdmin):
    """People blocked at a property (no access there at all). Added with block_create, removed
    ("unblocked") with block_delete; a block is never edited."""

    form = AccessBlockForm
    list_display = ("user", "property", "reason", "created_at", "created_by_who")
    list_select_related = ("user", "property")
    list_filter = (("property", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("user__email", "user__display_name", "reason")
    ordering = ("-created_at",)
    autocomplete_fields = ("user",)
    readonly_fields = ("user", "property", "reason", "created_at", "created_by_who", "id")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return AccessBlockForm.Meta.fields if obj is None else self.readonly_fields

    @admin.display(description="blocked by")
    def created_by_who(self, obj):
        return actor_text(obj.created_by)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        block = self.get_object(request, object_id)
        if block is not None:
            extra_context = {**(extra_context or {}), "subtitle": block_label(block)}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def get_deleted_objects(self, objs, request):
        rows, counts, perms, protected = super().get_deleted_objects(objs, request)
        rows = [format_html("Unblock {}", admin_link(block, block_label(block))) for block in objs]
        return rows, counts, perms, protected

    def service_save(self, request, obj, form, change):
        data = form.cleaned_data
        block, _created = services.block_create(
            prop=data["property"], user=data["user"], reason=data.get("reason", ""), actor=self.actor(request)
        )
        return block

    def service_delete(self, request, obj):
        services.block_delete(prop=obj.property, user=obj.user, actor=self.actor(request))


def render_lock_lines(locks) -> str:
    """The lock-lines table (templates/admin/access/includes/lock_lines.html) as HTML."""
    return render_to_string("admin/access/includes/lock_lines.html", {"lock_lines": lock_lines(locks)})
