"""Shared display helpers: links, names of a property's things, derived lines in words
(also used by apps.locks.admin.lock)."""

import re
import uuid
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.admin.utils import unquote
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html

from apps.access.models import LockAccessEntry, LockAccessVersion, Schedule, UserGroup
from apps.accounts.models import User
from apps.areas.models import Area
from apps.events.models import Event
from apps.locks.models import Lock
from apps.properties.models import Property


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


def local_time_text(value, zone: str) -> str:
    """ "2031-01-10 18:00 (America/Chicago)": an instant in the property's local time."""
    return f"{value.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})" if value else ""


def window_text(valid_from, valid_until, zone: str) -> str:
    """A membership window for a person to read, in the property's zone: "from 1 Dec 2026 09:00
    until 24 Dec 2026 18:00 (Europe/London)"; "always" without one."""
    tz = ZoneInfo(zone)

    def text(value):
        local = value.astimezone(tz)
        return f"{local.day} {local:%b %Y %H:%M}"

    parts = [f"from {text(valid_from)}"] if valid_from else []
    parts += [f"until {text(valid_until)}"] if valid_until else []
    return f"{' '.join(parts)} ({zone})" if parts else "always"


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


class PropertyZoneAdmin:
    """Validity inputs in the property's time zone (docs/ADMIN.md "Time zones"): the add and
    change pages are parsed and rendered under `timezone.override(<the property's zone>)`,
    the zone taken from the object, else the posted / linked `property`, else the manager's
    only property; the zone is named in the fields' help and in the property choices."""

    zone_fields: tuple[str, ...] = ("valid_from", "valid_until")

    def zone_property(self, request, obj=None):
        if obj is not None and getattr(obj, "property_id", None):
            return obj.property
        properties = self.scoped_queryset_for(request, Property).alive()
        pk = request.POST.get("property") or request.GET.get("property")
        if is_uuid(pk):
            return properties.filter(pk=pk).first()
        only = list(properties[:2])
        return only[0] if len(only) == 1 else None

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        prop = getattr(request, "_keyhouse_zone_property", None)
        if prop is not None and "property" not in initial:
            initial["property"] = prop.pk
        return initial

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        prop = getattr(request, "_keyhouse_zone_property", None)
        zone_fields = self.zone_fields

        class ZonedForm(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, **form_kwargs)
                for name in zone_fields:
                    if name in self.fields:
                        field = self.fields[name]
                        # the admin prints help texts unescaped: the property's name is escaped here
                        where = f"{escape(prop.display_name)} ({prop.time_zone})" if prop else "the chosen property"
                        field.help_text = f"{field.help_text} Local time of {where}.".strip()
                if "property" in self.fields and hasattr(self.fields["property"], "label_from_instance"):
                    self.fields["property"].label_from_instance = lambda p: f"{p.display_name} ({p.time_zone})"

        ZonedForm.__name__ = form_class.__name__
        return ZonedForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        prop = self.zone_property(request, obj)
        request._keyhouse_zone_property = prop
        zone = ZoneInfo(prop.time_zone) if prop else timezone.get_current_timezone()
        extra_context = {**(extra_context or {}), "keyhouse_time_zone": zone.key if prop else ""}
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()  # readonly times and inputs are rendered in the zone too
        return response
