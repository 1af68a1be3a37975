"""The person page (from the user change page): per property the manager manages, the
person's groups (add / remove through membership_add / membership_remove), grants, block,
what they can open now and this week with the why (selectors.person_access, the Explain
page's rules), and their recent access logs; their phones with the last sync."""

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from apps.access import selectors
from apps.access import services as access_services
from apps.access.admin.display import is_uuid, window_text
from apps.access.models import AccessBlock, AccessGrant, Membership, UserGroup
from apps.core.admin_base import scope_to_properties
from apps.core.person_panels import person_panels_collect
from apps.devices.models import UserDevice
from apps.locks.models import LockAccessLog
from apps.properties.models import Property

RECENT_LOGS = 20


def local_text(value, tz: ZoneInfo) -> str:
    """A timestamp as a person at the property reads it: "Tue 08 Dec 2026 18:00"."""
    return value.astimezone(tz).strftime("%a %d %b %Y %H:%M") if value else ""


def grant_state(grant: AccessGrant, now) -> str:
    if grant.revoked_at:
        return "revoked"
    if grant.expired_at or (grant.valid_until and grant.valid_until <= now):
        return "expired"
    if grant.valid_from and grant.valid_from > now:
        return "not yet valid"
    return "active"


def person_property_ids(user) -> set:
    """Properties the person belongs to: a group, a grant or a block there."""
    ids = set(selectors.member_property_ids(user_id=user.pk))
    ids |= set(AccessBlock.objects.filter(user=user).values_list("property_id", flat=True))
    return ids


def _property_section(request, user, prop, now) -> dict:
    tz = ZoneInfo(prop.time_zone)
    groups = list(selectors.user_groups_of_user(user_id=user.pk, property_id=prop.pk).order_by("display_name"))
    windows = {
        group_id: (valid_from, valid_until)
        for group_id, valid_from, valid_until in Membership.objects.filter(
            user=user, user_group__in=groups
        ).values_list("user_group_id", "valid_from", "valid_until")
    }
    for group in groups:  # the membership window, read here, edited on the group's page
        valid_from, valid_until = windows.get(group.pk, (None, None))
        group.window = window_text(valid_from, valid_until, prop.time_zone) if valid_from or valid_until else ""
        group.window_lockt = bool(group.window) and selectors.membership_lockt_owned(group=group, user_id=user.pk)
    others = (
        selectors.user_group_list(property_id=prop.pk).exclude(pk__in=[g.pk for g in groups]).order_by("display_name")
    )
    grants = AccessGrant.objects.alive().filter(user=user, property=prop).select_related("lock", "area")
    access = selectors.person_access(prop=prop, user=user, now=now)
    for row in access:
        row["url"] = reverse("admin:locks_lock_change", args=[row["lockId"]])
        row["explainUrl"] = f"{reverse('admin:access_explain')}?property={prop.pk}&user={user.pk}&lock={row['lockId']}"
        first = row["firstAllowedAt"]
        row["weekText"] = "now" if row["now"]["allowed"] else (f"from {local_text(first, tz)}" if first else "no")
    logs = (
        LockAccessLog.objects.filter(user_id=user.pk, lock__property=prop)
        .select_related("lock")
        .order_by("-access_date")[:RECENT_LOGS]
    )
    return {
        "property": prop,
        "time_zone": prop.time_zone,
        "groups": groups,
        "other_groups": list(others),
        "grants": [
            {
                "grant": grant,
                "target": grant.lock or grant.area,
                "state": grant_state(grant, now),
                "from": local_text(grant.valid_from, tz),
                "until": local_text(grant.valid_until, tz),
            }
            for grant in grants.order_by("-created_at")
        ],
        "block": AccessBlock.objects.filter(user=user, property=prop).first(),
        "access": access,
        "can_open_now": sum(1 for row in access if row["now"]["allowed"]),
        "logs": [{"log": log, "at": local_text(log.access_date, tz)} for log in logs],
    }


def _membership_change(model_admin, request, user) -> str:
    """Add to or remove from one group of a property the manager manages; the message."""
    group_admin = model_admin.admin_site._registry[UserGroup]
    group_id = request.POST.get("group", "")
    group = group_admin.get_queryset(request).alive().filter(pk=group_id).first() if is_uuid(group_id) else None
    if group is None or not group_admin.has_change_permission(request, group):
        raise PermissionDenied
    actor = model_admin.actor(request)
    who = user.display_name or user.email
    if request.POST.get("membership") == "add":
        done = access_services.membership_add(group=group, user=user, actor=actor)
        return f"Added {who} to {group.display_name}." if done else f"{who} is already in {group.display_name}."
    done = access_services.membership_remove(group=group, user=user, actor=actor)
    return f"Removed {who} from {group.display_name}." if done else f"{who} was not in {group.display_name}."


def person_view(model_admin, request, object_id):
    """GET: the page. POST (membership=add|remove, group=<id>): change one membership."""
    user = model_admin.get_object(request, unquote(object_id))
    if user is None or not model_admin.has_view_permission(request, user):
        raise Http404("No such person.")
    if request.method == "POST":
        message = _membership_change(model_admin, request, user)
        model_admin.message_user(request, message, messages.SUCCESS)
        if model_admin.get_object(request, unquote(object_id)) is None:  # left the manager's last group
            return HttpResponseRedirect(reverse("admin:accounts_user_changelist"))
        return HttpResponseRedirect(request.path)
    now = timezone.now()
    properties = scope_to_properties(Property.objects.alive(), request.user, "pk").filter(
        pk__in=person_property_ids(user)
    )
    devices = UserDevice.objects.alive().filter(user=user).order_by("display_name")
    group_admin = model_admin.admin_site._registry[UserGroup]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": user.display_name or user.email,
        "subtitle": "Person",
        "opts": model_admin.opts,
        "person": user,
        "may_change_groups": group_admin.has_change_permission(request),
        "sections": [_property_section(request, user, prop, now) for prop in properties.order_by("display_name")],
        "devices": [
            {
                "device": device,
                "last_sync": timezone.localtime(device.last_known_sync_date).strftime("%Y-%m-%d %H:%M %Z")
                if device.last_known_sync_date
                else "never",
            }
            for device in devices
        ],
        "membership_count": Membership.objects.filter(user=user).count(),
        "panels": person_panels_collect(user, list(properties.values_list("pk", flat=True))),
    }
    return render(request, "admin/accounts/user/person.html", context)
