"""The access-list editor on the area page: the directory's area admin plus the access
model's part of it, saved with access.services.area_update."""

from django import forms
from django.contrib import admin
from django.forms import formset_factory
from django.urls import reverse

from apps.access import selectors
from apps.access import services as access_services
from apps.access.admin.display import FieldPaths, lock_lines, pending_event_count
from apps.access.models import UserGroup, UserGroupGroupSource
from apps.areas.admin import INDENT, AreaAdmin, AreaForm
from apps.areas.models import Area
from apps.areas.selectors import area_tree
from apps.core.exceptions import ApplicationError
from apps.locks.models import Lock

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
    the access-list editor (saved with access.services.area_update in the same call as a rename
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
            return access_services.area_update(
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
