"""The "Explain access" page: a person, a lock and a time; allowed or denied, through which
paths (selectors.access_explain), and the person's stored access map."""

from collections import defaultdict
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from apps.access import selectors
from apps.access.admin.display import (
    AccessNames,
    alive_or_none,
    is_uuid,
    parse_timestamp,
    pending_event_count,
    validity_text,
)
from apps.access.models import AccessGrant, UserAccessMap
from apps.accounts.models import User
from apps.areas.selectors import area_tree
from apps.core.admin_base import scope_to_properties
from apps.locks.models import Lock
from apps.properties.models import Property

EXPLAIN_TIME_FORMAT = "%Y-%m-%dT%H:%M"


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
            "validity": validity_text(parse_timestamp(entry["validFrom"]), parse_timestamp(entry["validUntil"])),
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
        "access_map_at": timezone.localtime(access_map.computed_at).strftime("%Y-%m-%d %H:%M %Z") if access_map else "",
        "effective_lock_count": len({entry["lockId"] for entry in entries}),
        "pending_events": pending_event_count(prop.pk),
    }


def explain_view(model_admin, request):
    """Pick a property, a person, a lock and a time: allowed or denied, through which paths
    (selectors.access_explain), and the person's stored access map at the property."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    properties = scope_to_properties(Property.objects.alive(), request.user, "pk")
    prop = alive_or_none(Property, request.GET.get("property"))
    if prop is not None and not properties.filter(pk=prop.pk).exists():
        prop = None  # another property's: as if it did not exist
    if prop is None and "property" not in request.GET:
        only = list(properties[:2])
        prop = only[0] if len(only) == 1 else None  # one property: nothing to pick
    tz = ZoneInfo(prop.time_zone) if prop else ZoneInfo("UTC")
    initial = {"property": prop, "at": timezone.now().astimezone(tz).strftime(EXPLAIN_TIME_FORMAT)}
    initial |= {name: request.GET[name] for name in ("user", "lock") if is_uuid(request.GET.get(name))}
    with timezone.override(tz):
        data = None
        if "explain" in request.GET:
            data = request.GET.copy()
            for name in ("user", "lock"):
                if data.get(name) and not is_uuid(data[name]):
                    data[name] = ""  # a malformed id: the autocomplete widget cannot render it; ask again
        form = ExplainForm(data, prop=prop, initial=initial)
        model_admin.scope_form_choices(request, form)
        context = {
            **model_admin.admin_site.each_context(request),
            "title": "Explain access",
            "opts": model_admin.opts,
            "form": form,
            "media": model_admin.media + form.media,
            "time_zone": tz.key,
            "prop": prop,
        }
        if form.is_bound and form.is_valid():
            context.update(explain_context(form.cleaned_data))
        return render(request, "admin/access/explain.html", context)
