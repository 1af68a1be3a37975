from django.contrib import admin, messages

from apps.events.models import Event
from apps.events.services import event_process


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only event log; staff may re-run processing."""

    list_display = ("event_name", "created_at", "last_modified_by", "property_id", "processed_at", "attempts")
    list_filter = ("event_source", "event_name", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("=id", "event_name", "=property_id", "=user_id", "=lock_id", "=area_id")
    date_hierarchy = "created_at"
    actions = ["process_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Process selected events now")
    def process_again(self, request, queryset):
        for event_id in queryset.values_list("id", flat=True):
            event_process(event_id=event_id, force=True)
        messages.success(request, f"Processed {queryset.count()} event(s).")
