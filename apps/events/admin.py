"""Staff admin for the event log, read as an audit log (docs/ADMIN.md "Audit log"): newest
first, in names, filtered by property, object type, actor, object and date; superusers also
filter by processed / failing and have a "process again" action that calls
apps.events.services.event_process."""

import uuid
from collections import defaultdict

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db.models import Q
from django.utils import timezone

from apps.access.models import UserGroup
from apps.accounts.models import ApiKey, User
from apps.areas.models import Area
from apps.core.actors import actor_for_staff
from apps.core.admin_base import ReadOnlyModelAdmin, scope_to_properties
from apps.devices.models import UserDevice
from apps.events.constants import FAILING_AFTER_ATTEMPTS
from apps.events.models import Event, failing_q
from apps.events.services import event_process
from apps.locks.models import Lock
from apps.properties.models import Property

_PROCESSING = ("processed_at", "attempts", "last_error", "next_attempt_at", "failing")
_REFS = (
    "property_id",
    "area_id",
    "user_group_id",
    "user_id",
    "user_device_id",
    "lock_id",
    "key_id",
    "api_key_id",
    "firmware_version",
)


class ProcessedFilter(admin.SimpleListFilter):
    """Processed or waiting. The parameter keeps the name of the field filter it replaced, so
    the dashboard's "waiting" link (`?processed_at__isempty=1`) still works."""

    title = "processed"
    parameter_name = "processed_at__isempty"

    def lookups(self, request, model_admin):
        return [("0", "Processed"), ("1", "Waiting (not processed yet)")]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(processed_at__isnull=self.value() == "1")
        return queryset


class FailingFilter(admin.SimpleListFilter):
    title = "failing"
    parameter_name = "failing"

    def lookups(self, request, model_admin):
        return [("yes", f"Failing ({FAILING_AFTER_ATTEMPTS}+ attempts, still retried)"), ("no", "Not failing")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(failing_q())
        if self.value() == "no":
            return queryset.exclude(failing_q())
        return queryset


# Which ref field names which kind of object, in the order the "about" column lists them.
_REF_KINDS = (
    ("lock_id", "lock"),
    ("area_id", "area"),
    ("user_group_id", "group"),
    ("user_id", "person"),
    ("user_device_id", "phone"),
    ("api_key_id", "API key"),
)


class EventNames:
    """Display names for one page of events: properties, the objects they are about, actors
    (apps.core.actors labels such as "staff:<id>", "user:<id>", "apiKey:<id>"), one query per
    kind of object."""

    def __init__(self, events):
        events = list(events)
        ids = {field: {getattr(e, field) for e in events if getattr(e, field)} for field, _ in _REF_KINDS}
        actors = defaultdict(set)
        for event in events:
            kind, _, pk = event.last_modified_by.partition(":")
            if _is_uuid(pk):
                actors[kind].add(pk)
        people = ids["user_id"] | actors["staff"] | actors["user"]
        self.properties = _names(Property, {e.property_id for e in events if e.property_id})
        self.objects = {
            "lock_id": _names(Lock, ids["lock_id"] | actors["lock"]),
            "area_id": _names(Area, ids["area_id"] | actors["unit"]),
            "user_group_id": _names(UserGroup, ids["user_group_id"]),
            "user_id": _names(User, people),
            "user_device_id": _names(UserDevice, ids["user_device_id"]),
            "api_key_id": _names(ApiKey, ids["api_key_id"] | actors["apiKey"]),
        }

    def about(self, event) -> str:
        parts = []
        for field, kind in _REF_KINDS:
            pk = getattr(event, field)
            if pk:
                parts.append(f"{kind} {self.objects[field].get(str(pk), '(deleted)')}")
        if event.firmware_version:
            parts.append(f"firmware {event.firmware_version}")
        return " · ".join(parts) or "—"

    def property(self, event) -> str:
        return self.properties.get(str(event.property_id), "(deleted)") if event.property_id else "—"

    def actor(self, event) -> str:
        label = event.last_modified_by
        kind, _, pk = label.partition(":")
        table = {"staff": "user_id", "user": "user_id", "lock": "lock_id", "unit": "area_id", "apiKey": "api_key_id"}
        words = {"staff": "staff", "user": "", "lock": "lock", "unit": "unit portal of", "apiKey": "API key"}
        if kind in table and _is_uuid(pk):
            name = self.objects[table[kind]].get(pk, "(deleted)")
            return f"{words[kind]} {name}".strip()
        return label


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _names(model, ids) -> dict[str, str]:
    if not ids:
        return {}
    name_field = "email" if model is User else "display_name"
    rows = model._base_manager.filter(pk__in=list(ids))
    if model is User:
        return {str(u.pk): u.display_name or u.email for u in rows.only("id", "display_name", "email")}
    return {str(pk): name for pk, name in rows.values_list("pk", name_field)}


class EventChangeList(ChangeList):
    """Names the page's properties, objects and actors in a few queries (not per row)."""

    def get_results(self, request):
        super().get_results(request)
        names = EventNames(self.result_list)
        for event in self.result_list:
            event.names = names


class PropertyFilter(admin.SimpleListFilter):
    title = "property"
    parameter_name = "property"

    def lookups(self, request, model_admin):
        props = scope_to_properties(Property.objects.alive(), request.user, "pk").order_by("display_name")
        return [(str(pk), name) for pk, name in props.values_list("pk", "display_name")[:200]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(property_id=_uuid_or_bad(self.value()))
        return queryset


class ActorFilter(admin.SimpleListFilter):
    """Who did it: the actors of the events this person may read (the 100 most recent)."""

    title = "actor"
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        events = model_admin.get_queryset(request).order_by("-created_at")
        labels = []
        for label in events.values_list("last_modified_by", flat=True)[:2000]:
            if label not in labels:
                labels.append(label)
            if len(labels) == 100:
                break
        probe = [Event(last_modified_by=label) for label in labels]
        names = EventNames(probe)
        return sorted(
            ((label, names.actor(event)) for label, event in zip(labels, probe, strict=True)), key=lambda x: x[1]
        )

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(last_modified_by=self.value())
        return queryset


class ObjectTypeFilter(admin.AllValuesFieldListFilter):
    """The event's kind of object (`event_source`: lock, area, grant, group, …)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "object type"  # the field filter sets its title from the field's name


class ObjectFilter(admin.SimpleListFilter):
    """Events about one object (the "Audit log" link of every object page): any ref naming it."""

    title = "object"
    parameter_name = "object"

    def lookups(self, request, model_admin):
        value = request.GET.get(self.parameter_name)
        return [(value, "this object")] if value and _is_uuid(value) else []

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        pk = _uuid_or_bad(self.value())
        fields = ("property_id", "area_id", "user_group_id", "user_id", "user_device_id", "lock_id", "key_id")
        match = Q(pk=pk)
        for field in (*fields, "api_key_id"):
            match |= Q(**{field: pk})
        return queryset.filter(match)


def _uuid_or_bad(value):
    try:
        return uuid.UUID(value)
    except ValueError as error:  # the changelist answers "?e=1" instead of a 500
        raise IncorrectLookupParameters(error) from error


@admin.register(Event)
class EventAdmin(ReadOnlyModelAdmin):
    """The audit log: events newest first, in names (property, what it is about, who did it),
    filtered by property, object type, actor, object and date. Managers read the events of
    their properties (events of no property stay with superusers); superusers also see the
    processing columns and may re-run processing."""

    property_field = "property_id"

    list_display = ("when", "event_name", "property_name", "about", "actor")
    list_filter = (PropertyFilter, ("event_source", ObjectTypeFilter), ActorFilter, ObjectFilter)
    search_fields = ("=id", "event_name", "=property_id", "=user_id", "=lock_id", "=area_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    actions = ["process_again"]
    fieldsets = (
        (None, {"fields": ("id", "event_name", "event_source", "created_at", "property_name", "about", "actor")}),
        ("What changed", {"fields": ("payload",)}),
        ("Ids", {"fields": ("last_modified_by", *_REFS), "classes": ("collapse",)}),
        ("Processing", {"fields": _PROCESSING}),
    )
    readonly_fields = ("id", "event_name", "event_source", "created_at", "last_modified_by", "payload")
    readonly_fields += ("property_name", "about", "actor") + _REFS + _PROCESSING

    def get_changelist(self, request, **kwargs):
        return EventChangeList

    def get_list_display(self, request):
        if request.user.is_superuser:
            return (*self.list_display, "processed_at", "attempts", "failing", "next_attempt_at")
        return self.list_display

    def get_list_filter(self, request):
        if request.user.is_superuser:
            return (*self.list_filter, ProcessedFilter, FailingFilter, "event_name")
        return self.list_filter

    def get_actions(self, request):
        return super().get_actions(request) if request.user.is_superuser else {}

    def _names(self, obj):
        if not hasattr(obj, "names"):
            obj.names = EventNames([obj])
        return obj.names

    @admin.display(description="when", ordering="created_at")
    def when(self, obj):
        return timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="property")
    def property_name(self, obj):
        return self._names(obj).property(obj)

    @admin.display(description="about")
    def about(self, obj):
        return self._names(obj).about(obj)

    @admin.display(description="by")
    def actor(self, obj):
        return self._names(obj).actor(obj)

    @admin.display(boolean=True, description="failing")
    def failing(self, obj: Event) -> bool:
        return obj.is_failing

    @admin.action(description="Process selected events again now")
    def process_again(self, request, queryset):
        actor = actor_for_staff(request.user)
        done, failed, busy = 0, 0, 0
        for event_id in queryset.values_list("id", flat=True):
            event = event_process(event_id=event_id, force=True, actor=actor)
            if event is None:
                busy += 1
            elif event.last_error:
                failed += 1
            else:
                done += 1
        messages.success(request, f"Processed {done} event(s).")
        if failed:
            messages.error(request, f"{failed} event(s) failed again; see their last error.")
        if busy:
            messages.warning(request, f"{busy} event(s) were being processed by a worker; try again shortly.")
