"""Shared display helpers: links, names of a property's things, derived lines in words
(also used by apps.locks.admin)."""

import re
import uuid
from collections import defaultdict
from datetime import datetime

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.access.models import LockAccessEntry, LockAccessVersion, Schedule, UserGroup
from apps.accounts.models import User
from apps.areas.models import Area
from apps.events.models import Event
from apps.locks.models import Lock


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


def validity_text(valid_from, valid_until) -> str:
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
    """For each lock (all of one property): its access-lines version and its derived lines in
    words, read from LockAccessVersion / LockAccessEntry as the workers last wrote them."""
    locks = list(locks)
    if not locks:
        return []
    lock_ids = [lock.pk for lock in locks]
    versions = {v.lock_id: v for v in LockAccessVersion.objects.filter(lock_id__in=lock_ids)}
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
                    "validity": validity_text(row.valid_from, row.valid_until),
                    "source": names.source(row.source),
                }
            )
        lines_version = versions.get(lock.pk)
        out.append(
            {
                "lock": lock,
                "url": reverse("admin:locks_lock_change", args=[lock.pk]),
                "explain_url": f"{reverse('admin:access_explain')}?property={lock.property_id}&lock={lock.pk}",
                "version": lines_version.version if lines_version else None,
                "computed_at": lines_version.computed_at if lines_version else None,
                "lines": lines,
            }
        )
    return out


def actor_text(label: str) -> str:
    """An actor label (apps.core.actors) for people: "staff:<id>" names the staff member."""
    kind, _, pk = label.partition(":")
    if kind == "staff" and is_uuid(pk):
        person = User.objects.filter(pk=pk).first()
        if person is not None:
            return f"staff: {person}"
    return label


def pending_event_count(property_id) -> int:
    """Events of the property not yet processed: derived rows may still lag behind them."""
    return Event.objects.unprocessed().filter(property_id=property_id).count()


def is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def alive_or_none(model, pk):
    return model.objects.alive().filter(pk=pk).first() if is_uuid(pk) else None


def parse_timestamp(value: str | None):
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def render_lock_lines(locks) -> str:
    """The lock-lines table (templates/admin/access/includes/lock_lines.html) as HTML."""
    return render_to_string("admin/access/includes/lock_lines.html", {"lock_lines": lock_lines(locks)})
