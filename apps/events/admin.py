"""Staff admin for the event log: read-only rows, filters by source / processed / failing, and a
"process again" action that calls apps.events.services.event_process."""

from django.contrib import admin, messages

from apps.core.actors import actor_for_staff
from apps.core.admin_base import ReadOnlyModelAdmin
from apps.events.constants import FAILING_AFTER_ATTEMPTS
from apps.events.models import Event, failing_q
from apps.events.services import event_process

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


@admin.register(Event)
class EventAdmin(ReadOnlyModelAdmin):
    property_field = None  # the whole outbox: superusers only

    """Read-only event log; staff may re-run processing."""

    list_display = (
        "event_name",
        "created_at",
        "last_modified_by",
        "property_id",
        "processed_at",
        "attempts",
        "failing",
        "next_attempt_at",
    )
    list_filter = ("event_source", ProcessedFilter, FailingFilter, "event_name")
    search_fields = ("=id", "event_name", "=property_id", "=user_id", "=lock_id", "=area_id")
    date_hierarchy = "created_at"
    actions = ["process_again"]
    fieldsets = (
        (None, {"fields": ("id", "event_name", "event_source", "created_at", "last_modified_by", "payload")}),
        ("About", {"fields": _REFS}),
        ("Processing", {"fields": _PROCESSING}),
    )
    readonly_fields = ("id", "event_name", "event_source", "created_at", "last_modified_by", "payload")
    readonly_fields += _REFS + _PROCESSING

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
