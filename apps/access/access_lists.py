"""What an access list may name: its entries checked against the property (reads only).

Used by the services that write access lists and by what-if (a selector), so it sits below
both; an area's access list is stored on the area (apps.areas) but only access checks it.
"""

from apps.access.models import Schedule, UserGroup
from apps.areas.models import Area
from apps.core.exceptions import ApplicationError

ACCESS_TYPES = ("group", "area", "schedule")


def access_list_clean(prop, entries: list[dict]) -> list[dict]:
    """Check spec AccessListEntry items (+ the `scheduleId` extension): a `group` entry names a
    live group, an `area` entry a live area, a `schedule` entry (free passage) a schedule, all
    of the same property; any entry may add `scheduleId`. Returns them normalised to strings.
    Looks up only the ids named."""
    wanted = {"userGroupId": set(), "areaId": set(), "scheduleId": set()}
    for entry in entries:
        for key, ids in wanted.items():
            if entry.get(key):
                ids.add(str(entry[key]))
    known = {
        "userGroupId": UserGroup.objects.alive().filter(property=prop, pk__in=wanted["userGroupId"]),
        "areaId": Area.objects.alive().filter(property=prop, pk__in=wanted["areaId"]),
        "scheduleId": Schedule.objects.alive().filter(property=prop, pk__in=wanted["scheduleId"]),
    }
    known = {
        key: {str(i) for i in qs.values_list("id", flat=True)} if wanted[key] else set() for key, qs in known.items()
    }
    needs = {"group": "userGroupId", "area": "areaId", "schedule": "scheduleId"}
    missing = {"userGroupId": "No such user group", "areaId": "No such area", "scheduleId": "No such schedule"}
    cleaned, errors = [], {}
    for index, entry in enumerate(entries):
        kind = entry.get("accessType")
        if kind not in ACCESS_TYPES:
            errors[f"accessList[{index}].accessType"] = [f"Must be one of {', '.join(ACCESS_TYPES)}."]
            continue
        item = {"accessType": kind}
        for key in (needs[kind], "scheduleId"):
            value = str(entry.get(key) or "")
            if key == "scheduleId" and not value and kind != "schedule":
                continue
            item[key] = value
            if value not in known[key]:
                errors[f"accessList[{index}].{key}"] = [f"{missing[key]} in this property."]
        cleaned.append(item)
    if errors:
        raise ApplicationError("invalid access list", fields=errors)
    return cleaned
