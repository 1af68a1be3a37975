"""What locks reported (access logs, PROTOCOL.md §6.5) and, per change, on how many locks a
key map carrying it is acknowledged ("Key-map changes", provable revocation, §8.2)."""

from django.contrib import admin
from django.utils import timezone

from apps.core.admin_base import ReadOnlyModelAdmin
from apps.events.models import Event
from apps.locks import selectors
from apps.locks.models import KeyMapRequest, LockAccessLog


class DeniedFilter(admin.SimpleListFilter):
    title = "result"
    parameter_name = "denied"

    def lookups(self, request, model_admin):
        return [("yes", "Denied only"), ("signature", "Device signature failures")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(result="denied")
        if self.value() == "signature":
            return queryset.filter(device_signature_failure=True)
        return queryset


@admin.register(LockAccessLog)
class LockAccessLogAdmin(ReadOnlyModelAdmin):
    property_field = "lock__property"

    """What locks reported (PROTOCOL.md §6.5), newest first by the lock's own sequence; a lock's
    missing sequence numbers are on its page and behind the lock list's "access logs" filter."""

    list_display = ("lock", "sequence", "access_date", "result", "reason", "user_id", "user_device_id", "received")
    list_select_related = ("lock",)
    list_filter = (DeniedFilter, "reason", ("lock", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=user_id", "=user_device_id", "=kid", "=lock__id", "lock__display_name")
    ordering = ("-lock_id", "-sequence")
    list_per_page = 100

    @admin.display(description="received", ordering="created_at")
    def received(self, obj):
        return timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M:%S")


@admin.register(KeyMapRequest)
class KeyMapChangeAdmin(ReadOnlyModelAdmin):
    property_field = None  # the key-map build queue spans properties: superusers only

    """Provable revocation: for each change (event) that touched key maps, on how many locks a
    key map carrying it is acknowledged and which locks are still pending (PROTOCOL.md §8.2)."""

    list_display = ("requested_at", "reason", "property_id", "built", "signed_after", "acknowledged", "pending_locks")
    list_filter = ("reason",)
    search_fields = ("=event_id", "=property_id")
    ordering = ("-id",)
    list_per_page = 25

    def get_queryset(self, request):
        return super().get_queryset(request).filter(event_id__isnull=False).select_related("build")

    def _status(self, obj) -> dict:
        cached = getattr(obj, "_ack_status", None)
        if cached is None:
            event = Event.objects.filter(pk=obj.event_id).first()
            cached = obj._ack_status = selectors.event_acknowledgements(event=event) if event else {}
        return cached

    @admin.display(description="maps built", boolean=True)
    def built(self, obj):
        return obj.build_id is not None

    @admin.display(description="revocation latency", ordering="signed_after_ms")
    def signed_after(self, obj):
        """From the change's commit to its key maps stored (signed), as the worker measured it."""
        if obj.build_id is None:
            return "waiting for a build"
        if obj.signed_after_ms is None:
            return "—"
        signed = obj.build.locks_signed
        return (
            f"signed after {obj.signed_after_ms:,} ms"
            if signed
            else f"no map changed (checked after {obj.signed_after_ms:,} ms)"
        )

    @admin.display(description="acknowledged")
    def acknowledged(self, obj):
        status = self._status(obj)
        return f"{status.get('acknowledged', 0)} of {status.get('locks', 0)} locks" if status else "—"

    @admin.display(description="pending")
    def pending_locks(self, obj):
        status = self._status(obj)
        names = [row["displayName"] for row in status.get("pendingLocks", [])]
        return ", ".join(names[:10]) + (f" (+{len(names) - 10})" if len(names) > 10 else "") if names else "—"
