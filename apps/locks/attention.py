"""What of the locks needs a look, for the admin dashboard (apps.core.attention): locks that
have not applied their newest key map (a revocation not yet effective at the door), offline
or low-battery locks (LockHealth), and what the doors refused in the last 24 hours."""

from datetime import timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.core.attention import AttentionItem, attention_register
from apps.core.principal import ALL
from apps.locks import selectors
from apps.locks.models import LockAccessLog, LockHealth

DENIED_WINDOW = timedelta(hours=24)


def waited_text(since, now) -> str:
    """ "3 d 4 h", "2 h 5 min", "12 min": how long something has waited."""
    seconds = max(0, int((now - since).total_seconds()))
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def key_maps_not_acknowledged(property_ids) -> list[AttentionItem]:
    now = timezone.now()
    items = []
    for lock, since in selectors.locks_key_map_pending(property_ids=ALL if property_ids is None else property_ids):
        waited = f" for {waited_text(since, now)}" if since else ""
        text = (
            f"{lock.display_name}: key map {lock.signed_key_map_version} not applied{waited} "
            f"(the lock runs {lock.applied_key_map_version}); a revocation in it is not effective yet"
        )
        items.append(AttentionItem(text, reverse("admin:locks_lock_who", args=[lock.pk]), lock.property_id))
    return items


def locks_unwell(property_ids) -> list[AttentionItem]:
    rows = LockHealth.objects.filter(Q(online=False) | Q(battery_low=True), lock__type_state__in=["active", "inactive"])
    if property_ids is not None:
        rows = rows.filter(lock__property_id__in=property_ids)
    items = []
    for health in rows.select_related("lock").order_by("lock__display_name"):
        trouble = []
        if not health.online:
            seen = (
                timezone.localtime(health.last_contact_at).strftime("%Y-%m-%d %H:%M")
                if health.last_contact_at
                else "never"
            )
            trouble.append(f"offline (last contact {seen})")
        if health.battery_low:
            level = f" ({health.battery_level} %)" if health.battery_level is not None else ""
            trouble.append(f"battery low{level}")
        items.append(
            AttentionItem(
                f"{health.lock.display_name}: {', '.join(trouble)}",
                reverse("admin:locks_lock_change", args=[health.lock_id]),
                health.lock.property_id,
            )
        )
    return items


def recent_denials(property_ids) -> list[AttentionItem]:
    logs = LockAccessLog.objects.filter(result="denied", access_date__gte=timezone.now() - DENIED_WINDOW)
    if property_ids is not None:
        logs = logs.filter(lock__property_id__in=property_ids)
    logs = list(logs.select_related("lock").order_by("-access_date")[:50])
    people = {u.pk: u for u in User.objects.filter(pk__in=[log.user_id for log in logs if log.user_id])}
    items = []
    for log in logs:
        person = people.get(log.user_id)
        who = (person.display_name or person.email) if person else "an unknown key"
        when = timezone.localtime(log.access_date).strftime("%a %H:%M")
        items.append(
            AttentionItem(
                f"{when} {log.lock.display_name} refused {who} ({log.reason})",
                f"{reverse('admin:locks_lockaccesslog_changelist')}?denied=yes&lock__id__exact={log.lock_id}",
                log.lock.property_id,
            )
        )
    return items


def register() -> None:
    attention_register(
        "locks.key_map_pending",
        title="Locks that have not applied their newest key map",
        provider=key_maps_not_acknowledged,
        order=10,
    )
    attention_register("locks.unwell", title="Locks offline or with a low battery", provider=locks_unwell, order=40)
    attention_register("locks.denied", title="Refused at the door (last 24 h)", provider=recent_denials, order=90)
