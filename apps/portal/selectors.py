"""Reads of the portal: units, their tokens and people, the caller's rights, passphrases
(decrypted only for whoever may see them), and the staff DPSK export."""

import uuid
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.access import doors
from apps.access.models import LockAccessEntry, Schedule, UserAccessMap, UserGroup
from apps.accounts.models import UserToken
from apps.areas.models import Area, AreaAreaType
from apps.core.choices import EntityTypeState
from apps.core.principal import Principal
from apps.portal import passphrases
from apps.portal.models import PortalSettings, UnitToken, UnitUser, UnitUserStatus, UnitUserType


def unit_list(*, property_id) -> QuerySet[Area]:
    """A property's live units (its `resident` areas)."""
    return Area.objects.alive().filter(property_id=property_id, area_type=AreaAreaType.RESIDENT)


def unit_get(*, property_id, area_id) -> Area | None:
    return unit_list(property_id=property_id).filter(pk=area_id).select_related("property").first()


def portal_settings(*, property_id) -> PortalSettings:
    """The property's portal settings; defaults (unsaved) when it has none."""
    found = PortalSettings.objects.filter(property_id=property_id).first()
    return found if found is not None else PortalSettings(property_id=property_id)


# --- tokens ----------------------------------------------------------------------------------


def unit_token_find(prefix: str) -> UnitToken | None:
    """The live token with this prefix, of a live unit (credential-kind `find`)."""
    token = UnitToken.objects.filter(prefix=prefix, revoked_at__isnull=True).select_related("area").first()
    if token is None or token.area.type_state == "deleted" or token.area.area_type != AreaAreaType.RESIDENT:
        return None
    return token


def principal_for_unit(token: UnitToken) -> Principal:
    """A unit token holds no staff permission: the staff API answers it 403; the portal API
    reads `kind == "unit"` and `id` (the unit's area id)."""
    return Principal(kind="unit", id=token.area_id, grants=(), label=f"unit:{token.area_id}")


def unit_token_live(*, area_id) -> UnitToken | None:
    return UnitToken.objects.filter(area_id=area_id, revoked_at__isnull=True).first()


# --- who is calling ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PortalCaller:
    """Who a portal request acts as: a unit (its token: UNIT rights) or one unit user."""

    area: Area
    unit_user: UnitUser | None  # None: the unit token

    @property
    def unit_rights(self) -> bool:
        return self.unit_user is None or self.unit_user.user_type == UnitUserType.UNIT

    @property
    def label(self) -> str:
        return f"unit:{self.area.pk}" if self.unit_user is None else f"user:{self.unit_user.user_id}"


def caller_for(*, principal: Principal | None, property_id) -> PortalCaller | None:
    """The caller at this property, or None (then the portal answers 404): a unit token of a
    unit of this property, or a signed-in person who is an ACTIVE UNIT or LINKED user here."""
    if principal is None:
        return None
    if principal.kind == "unit":
        area = unit_get(property_id=property_id, area_id=principal.id)
        return PortalCaller(area=area, unit_user=None) if area is not None else None
    if principal.kind == "user" and principal.user_id is not None:
        unit_user = (
            UnitUser.objects.alive()
            .filter(
                property_id=property_id,
                user_id=principal.user_id,
                status=UnitUserStatus.ACTIVE,
                user_type__in=(UnitUserType.UNIT, UnitUserType.LINKED),
                area__type_state="active",
            )
            .select_related("area", "area__property", "user")
            .first()
        )
        return PortalCaller(area=unit_user.area, unit_user=unit_user) if unit_user is not None else None
    return None


# --- people -----------------------------------------------------------------------------------


def unit_user_list(*, area_id) -> QuerySet[UnitUser]:
    """The unit's people; a person whose account is deleted is gone at once (the `user.deleted`
    handler then removes the row)."""
    return (
        UnitUser.objects.alive()
        .filter(area_id=area_id)
        .exclude(user__type_state=EntityTypeState.DELETED)
        .select_related("user", "area")
    )


def unit_user_get(*, area_id, user_id) -> UnitUser | None:
    return unit_user_list(area_id=area_id).filter(user_id=user_id).first()


def unit_users_active_unit_count(*, area_id) -> int:
    return unit_user_list(area_id=area_id).filter(user_type=UnitUserType.UNIT, status=UnitUserStatus.ACTIVE).count()


def passphrase_of(unit_user: UnitUser) -> str | None:
    """The decrypted passphrase, or None when the person has none."""
    if not unit_user.passphrase_digest or unit_user.passphrase_wrapped is None:
        return None
    return passphrases.unwrap(
        unit_user.passphrase_wrapped, kek_id=unit_user.passphrase_kek_id, unit_user_id=unit_user.pk
    )


def passphrase_visible(caller: PortalCaller, unit_user: UnitUser) -> str | None:
    """UNIT rights see every passphrase of the unit; anyone else only their own."""
    if caller.unit_rights or (caller.unit_user is not None and caller.unit_user.pk == unit_user.pk):
        return passphrase_of(unit_user)
    return None


def guest_expired(unit_user: UnitUser, now=None) -> bool:
    now = now or timezone.now()
    return (
        unit_user.user_type == UnitUserType.GUEST and unit_user.valid_until is not None and unit_user.valid_until <= now
    )


def passphrase_active(unit_user: UnitUser, now=None) -> bool:
    """Whether a Wi-Fi controller should accept the passphrase now."""
    now = now or timezone.now()
    if unit_user.status != UnitUserStatus.ACTIVE or not unit_user.passphrase_digest:
        return False
    if unit_user.valid_from is not None and unit_user.valid_from > now:
        return False
    return not guest_expired(unit_user, now)


def dpsk_export(*, property_id) -> list[dict]:
    """Every unit user of the property with a passphrase or without (the controller drops
    inactive ones): what a Wi-Fi controller pulls."""
    now = timezone.now()
    rows = (
        UnitUser.objects.alive()
        .filter(property_id=property_id, area__type_state="active")
        .exclude(user__type_state=EntityTypeState.DELETED)
        .select_related("area")
    )
    return [
        {
            "userId": str(u.user_id),
            "unitId": str(u.area_id),
            "unitName": u.area.display_name,
            "userName": u.user_name,
            "type": u.user_type,
            "status": u.status,
            "passphrase": passphrase_of(u),
            "active": passphrase_active(u, now),
            "validFrom": u.valid_from,
            "validUntil": u.valid_until,
        }
        for u in rows.order_by("area_id", "id")
    ]


def doors_of(*, property_id, user_id) -> list[dict]:
    """The person's derived access at the property (the same lines the locks and phones use):
    [{lockId, scheduleId, validFrom, validUntil, source}]."""
    found = UserAccessMap.objects.filter(property_id=property_id, user_id=user_id).first()
    return list(found.entries) if found is not None else []


# --- page sessions ----------------------------------------------------------------------------


def session_caller(session_data: dict | None) -> PortalCaller | None:
    """The caller a portal page session stands for, while its credential is still live: the
    unit token it was opened with (rotation ends it), or the person's sign-in token."""
    if not session_data:
        return None
    if session_data.get("kind") == "unit":
        token = UnitToken.objects.filter(pk=session_data.get("token_id"), revoked_at__isnull=True).first()
        if token is None:
            return None
        area = Area.objects.alive().filter(pk=token.area_id).select_related("property").first()
        return PortalCaller(area=area, unit_user=None) if area is not None else None
    if session_data.get("kind") == "user":
        token = (
            UserToken.objects.filter(
                pk=session_data.get("token_id"), revoked_at__isnull=True, expires_at__gt=timezone.now()
            )
            .select_related("user")
            .first()
        )
        if token is None or not token.user.is_active:
            return None
        principal = Principal(kind="user", id=token.user_id, grants=(), label="", user_id=token.user_id)
        return caller_for(principal=principal, property_id=session_data.get("property_id"))
    return None


def portal_property_of(*, user_id):
    """The property where a signed-in person is an ACTIVE UNIT or LINKED user (the first)."""
    found = (
        UnitUser.objects.alive()
        .filter(
            user_id=user_id,
            status=UnitUserStatus.ACTIVE,
            user_type__in=(UnitUserType.UNIT, UnitUserType.LINKED),
            area__type_state="active",
        )
        .order_by("id")
        .first()
    )
    return found.property_id if found is not None else None


def unit_doors(caller: PortalCaller) -> list[dict]:
    """The doors of the caller and when, from derived access (the lines the locks use): a
    person's own access map; for the unit token, the unit's area group's lines."""
    property_id = caller.area.property_id
    if caller.unit_user is not None:
        entries = doors_of(property_id=property_id, user_id=caller.unit_user.user_id)
    else:
        group = UserGroup.objects.filter(area=caller.area).first()
        rows = LockAccessEntry.objects.filter(
            property_id=property_id, kind="group", subject_id=group.pk if group else None
        )
        entries = [
            {
                "lockId": str(r.lock_id),
                "scheduleId": str(r.schedule_id) if r.schedule_id else None,
                "validFrom": r.valid_from.isoformat() if r.valid_from else None,
                "validUntil": r.valid_until.isoformat() if r.valid_until else None,
            }
            for r in rows
        ]
    names = doors.names(property_id)
    schedules = dict(Schedule.objects.filter(property_id=property_id).values_list("id", "display_name"))
    found = {}
    for entry in entries:
        name = names.get(entry["lockId"]) or names.get(uuid_or_none(entry["lockId"]))
        schedule = schedules.get(uuid_or_none(entry.get("scheduleId"))) if entry.get("scheduleId") else None
        found.setdefault(entry["lockId"], {"name": name or "Door", "windows": []})["windows"].append(
            {
                "schedule": schedule,
                "validFrom": _when(entry.get("validFrom")),
                "validUntil": _when(entry.get("validUntil")),
            }
        )
    return sorted(found.values(), key=lambda door: door["name"])


def _when(value):
    return parse_datetime(value) if isinstance(value, str) else value


def uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def sign_in_token(*, token_id) -> UserToken | None:
    """A page session's person sign-in token (live or not), to revoke on sign-out."""
    return UserToken.objects.filter(pk=token_id).first() if uuid_or_none(token_id) else None
