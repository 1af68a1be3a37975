"""The people of a unit: unit users, guests, passphrases, blocking, contact details. What lower
apps own goes through their services: membership and grants (apps.access), people
(apps.accounts), devices (apps.devices)."""

from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import EmailValidator, RegexValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.access import services as access_services
from apps.access.models import AccessGrant, UserGroup
from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.areas.models import Area, AreaAreaType
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ConflictError
from apps.events.models import Event
from apps.portal import passphrases, selectors
from apps.portal.models import UnitUser, UnitUserStatus, UnitUserType
from apps.portal.services.common import KEEP, _event, _refuse, logger

E164 = RegexValidator(r"^\+[1-9]\d{1,14}$", "Use E.164 format: + and up to 15 digits, e.g. +14155550123.")

# --- passphrases ------------------------------------------------------------------------------


def _passphrase_taken(property_id, passphrase: str, exclude_pk) -> bool:
    return (
        UnitUser.objects.filter(
            property_id=property_id, passphrase_digest__in=passphrases.digests_everywhere(property_id, passphrase)
        )
        .exclude(pk=exclude_pk)
        .exists()
    )


def _passphrase_store(unit_user: UnitUser, passphrase: str | None) -> None:
    """Set (or, with None, clear) the row's passphrase fields; the caller saves."""
    if passphrase is None:
        unit_user.passphrase_wrapped = None
        unit_user.passphrase_kek_id = None
        unit_user.passphrase_digest = ""
        unit_user.passphrase_pepper_id = None
    else:
        unit_user.passphrase_kek_id, unit_user.passphrase_wrapped = passphrases.wrap(
            passphrase, unit_user_id=unit_user.pk
        )
        pepper_id = passphrases.current_pepper_id()
        unit_user.passphrase_digest = passphrases.digest(unit_user.property_id, passphrase, pepper_id)
        unit_user.passphrase_pepper_id = pepper_id
    unit_user.passphrase_changed_at = timezone.now()


def _passphrase_generated(unit_user: UnitUser) -> str:
    length = selectors.portal_settings(property_id=unit_user.property_id).passphrase_length
    for _ in range(20):
        candidate = passphrases.generate(length)
        if not _passphrase_taken(unit_user.property_id, candidate, unit_user.pk):
            return candidate
    raise ConflictError("could not generate a unique passphrase; raise the property's passphrase length")


def _passphrase_chosen(unit_user: UnitUser, passphrase: str) -> str:
    refusal = passphrases.chosen_refusal(passphrase)
    if refusal:
        _refuse("passphrase", refusal)
    if _passphrase_taken(unit_user.property_id, passphrase, unit_user.pk):
        # Says nothing about who holds it.
        _refuse("passphrase", "This passphrase cannot be used; choose another.")
    return passphrase


# --- people -----------------------------------------------------------------------------------


def _area_group(area: Area) -> UserGroup:
    return UserGroup.objects.get(area=area)


def _guest_areas(area: Area) -> list[Area]:
    """Where a guest's grants go: the unit, and the areas above it that are not staff areas
    (their own doors and, by the access rules, their common sub-areas: the entrances)."""
    above = Area.objects.alive().filter(pk__in=area.ancestor_ids).exclude(area_type=AreaAreaType.STAFF)
    return [area, *above]


def _guest_window_check(prop, valid_from: datetime | None, valid_until: datetime | None) -> None:
    if valid_until is None:
        _refuse("validUntil", "Required: guest access must end.")
    start = valid_from or timezone.now()
    if valid_until <= timezone.now():
        _refuse("validUntil", "Must be in the future.")
    if valid_until <= start:
        _refuse("validUntil", "Must be after validFrom.")
    days = selectors.portal_settings(property_id=prop.pk).guest_max_days
    if valid_until - start > timedelta(days=days):
        _refuse("validUntil", f"Guest access may last at most {days} days at this property.")


def _access_give(unit_user: UnitUser, actor: str) -> None:
    """Membership (UNIT, LINKED) or the guest's grants, through apps.access."""
    if unit_user.user_type == UnitUserType.GUEST:
        grants = [
            access_services.grant_create(
                prop=unit_user.property,
                user=unit_user.user,
                area=target,
                access_level="GUEST",
                valid_from=unit_user.valid_from,
                valid_until=unit_user.valid_until,
                actor=unit_user.granted_by or actor,
            )
            for target in _guest_areas(unit_user.area)
        ]
        unit_user.grant_ids = [str(g.pk) for g in grants]
    else:
        access_services.membership_add(group=_area_group(unit_user.area), user=unit_user.user, actor=actor)


def _access_take(unit_user: UnitUser, actor: str) -> None:
    if unit_user.user_type == UnitUserType.GUEST:
        for grant in AccessGrant.objects.filter(pk__in=unit_user.grant_ids, revoked_at__isnull=True):
            access_services.grant_revoke(grant=grant, actor=actor)
        unit_user.grant_ids = []
    else:
        access_services.membership_remove(group=_area_group(unit_user.area), user=unit_user.user, actor=actor)


def _contact_clean(*, email=KEEP, phone_number=KEEP, user_name=KEEP) -> None:
    if email is not KEEP and email:
        if len(email) > 255:
            _refuse("email", "At most 255 characters.")
        try:
            EmailValidator()(email)
        except DjangoValidationError:
            _refuse("email", "Enter a valid email address.")
    if phone_number is not KEEP and phone_number:
        if len(phone_number) > 16:
            _refuse("phoneNumber", "At most 16 characters.")
        try:
            E164(phone_number)
        except DjangoValidationError:
            _refuse("phoneNumber", "Use E.164 format: + and up to 15 digits, e.g. +14155550123.")
    if user_name is not KEEP and not (user_name or "").strip():
        _refuse("userName", "Required.")
    if user_name is not KEEP and len(user_name) > 200:
        _refuse("userName", "At most 200 characters.")


@transaction.atomic
def unit_user_create(
    *,
    area: Area,
    user: User,
    user_type: str,
    actor: str,
    user_name: str | None = None,
    email: str | None = None,
    phone_number: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    invite: bool = False,
) -> UnitUser:
    """Add a person to a unit with a generated passphrase (events `unit_user.created`, and
    `group.member_added` or `grant.created` from apps.access). A GUEST's access and passphrase
    hold from `valid_from` until `valid_until` (required, at most the property's maximum)."""
    if area.area_type != AreaAreaType.RESIDENT or area.type_state == "deleted":
        _refuse("areaId", "Not a live unit (resident area).")
    if user_type not in UnitUserType.values:
        _refuse("type", f"Must be one of {', '.join(UnitUserType.values)}.")
    if user_type == UnitUserType.GUEST:
        _guest_window_check(area.property, valid_from, valid_until)
    else:
        valid_from = valid_until = None
    email = user.email if email is None else email
    phone_number = user.phone_number if phone_number is None else phone_number
    user_name = user.display_name if user_name is None else user_name
    _contact_clean(email=email, phone_number=phone_number, user_name=user_name)
    if UnitUser.objects.filter(property_id=area.property_id, user=user).exists():
        raise ConflictError(
            "userId: Already a unit user at this property.",
            fields={"userId": ["Already a unit user at this property."]},
        )
    unit_user = UnitUser(
        property_id=area.property_id,
        area=area,
        user=user,
        user_type=user_type,
        user_name=user_name.strip(),
        email=email,
        phone_number=phone_number,
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by=actor if user_type == UnitUserType.GUEST else "",
        last_modified_by=actor,
    )
    _passphrase_store(unit_user, _passphrase_generated(unit_user))
    unit_user.full_clean()
    unit_user.save()
    _access_give(unit_user, actor)
    unit_user.save(update_fields=["grant_ids"])
    _event("unit_user.created", unit_user, actor, type=user_type)
    if invite:
        transaction.on_commit(partial(_invitation_send, unit_user.pk, settings.KEYHOUSE_PORTAL_URL))
    return unit_user


def _invitation_send(unit_user_id, portal_url: str) -> None:
    """Mail the invitation (after commit): a guest learns their window and to use the app; a
    UNIT or LINKED person how to sign in to the portal (their email and a one-time code)."""
    unit_user = UnitUser.objects.select_related("area", "property").filter(pk=unit_user_id).first()
    if unit_user is None or not unit_user.email:
        return
    place = f"{unit_user.area.display_name} at {unit_user.property.display_name}"
    if unit_user.user_type == UnitUserType.GUEST:
        zone = ZoneInfo(unit_user.property.time_zone)
        until = timezone.localtime(unit_user.valid_until, timezone=zone)
        body = (
            f"You have guest access to {place} until {until:%a %d %b %Y %H:%M} ({unit_user.property.time_zone}).\n"
            "Sign in to the Keyhouse app with this email (we send you a one-time code) to open the doors. "
            "Your host can tell you the Wi-Fi passphrase."
        )
    else:
        body = (
            f"You are now a resident of {place}.\n"
            f"Sign in to the resident portal with this email at {portal_url.rstrip('/')}/sign-in "
            "(ask for a one-time code, or use your password) to see your doors and your Wi-Fi passphrase."
        )
    try:
        send_mail(f"You're invited to {unit_user.property.display_name}", body, None, [unit_user.email])
    except Exception:  # noqa: BLE001 - mail errors vary; the person is already added
        logger.warning("could not send the portal invitation for unit user %s", unit_user_id, exc_info=True)


@transaction.atomic
def guest_invite(
    *,
    area: Area,
    user_name: str,
    email: str,
    actor: str,
    valid_until: datetime | None,
    valid_from: datetime | None = None,
    phone_number: str = "",
    portal_url: str = "",
) -> UnitUser:
    """Invite a guest: their account (found by email, or made), a GUEST grant on the unit and
    the areas above it, a passphrase for the same window, and an invitation email after commit."""
    _contact_clean(email=email, phone_number=phone_number, user_name=user_name)
    if not email:
        _refuse("email", "Required: the invitation is emailed.")
    _guest_window_check(area.property, valid_from, valid_until)
    user = User.objects.alive().filter(email__iexact=email.strip()).first()
    if user is None:
        user = account_services.user_create(
            email=email, display_name=user_name.strip(), actor=actor, phone_number=phone_number
        )
    unit_user = unit_user_create(
        area=area,
        user=user,
        user_type=UnitUserType.GUEST,
        actor=actor,
        user_name=user_name,
        email=email,
        phone_number=phone_number,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    transaction.on_commit(partial(_invitation_send, unit_user.pk, portal_url or settings.KEYHOUSE_PORTAL_URL))
    return unit_user


def _last_unit_user(unit_user: UnitUser) -> bool:
    return (
        unit_user.user_type == UnitUserType.UNIT
        and unit_user.status == UnitUserStatus.ACTIVE
        and selectors.unit_users_active_unit_count(area_id=unit_user.area_id) <= 1
    )


def _locked(unit_user: UnitUser) -> UnitUser:
    return UnitUser.objects.select_for_update().select_related("user", "area", "property").get(pk=unit_user.pk)


@transaction.atomic
def unit_user_block(*, unit_user: UnitUser, actor: str) -> UnitUser:
    """BLOCKED: membership or grants and the passphrase go, in this transaction (events
    `unit_user.blocked` and apps.access's). The last ACTIVE UNIT user cannot be blocked (409)."""
    # Lock every UNIT row of the unit: two UNIT users blocking each other at once must not both win.
    list(UnitUser.objects.select_for_update().filter(area_id=unit_user.area_id, user_type=UnitUserType.UNIT))
    unit_user = _locked(unit_user)
    if unit_user.status == UnitUserStatus.BLOCKED:
        return unit_user
    if _last_unit_user(unit_user):
        raise ConflictError(
            "status: The last active UNIT user of a unit cannot be blocked.",
            fields={"status": ["The last active UNIT user of a unit cannot be blocked."]},
        )
    _access_take(unit_user, actor)
    _passphrase_store(unit_user, None)
    unit_user.status = UnitUserStatus.BLOCKED
    unit_user.last_modified_by = actor
    unit_user.save()
    _event("unit_user.blocked", unit_user, actor)
    return unit_user


@transaction.atomic
def unit_user_unblock(*, unit_user: UnitUser, actor: str) -> UnitUser:
    """ACTIVE again: membership or the guest's grants back, and a new generated passphrase
    (event `unit_user.unblocked`). A guest whose window has ended stays blocked (400)."""
    unit_user = _locked(unit_user)
    if unit_user.status == UnitUserStatus.ACTIVE:
        return unit_user
    if selectors.guest_expired(unit_user):
        _refuse("status", "This guest's access has ended; invite them again.")
    unit_user.status = UnitUserStatus.ACTIVE
    _access_give(unit_user, actor)
    _passphrase_store(unit_user, _passphrase_generated(unit_user))
    unit_user.last_modified_by = actor
    unit_user.save()
    _event("unit_user.unblocked", unit_user, actor)
    return unit_user


@transaction.atomic
def guest_end(*, unit_user: UnitUser, actor: str) -> UnitUser:
    """End a guest's access now: grants revoked, passphrase gone, window closed (event
    `unit_user.guest_ended`)."""
    unit_user = _locked(unit_user)
    if unit_user.user_type != UnitUserType.GUEST:
        _refuse("type", "Only a guest's access can be ended early.")
    now = timezone.now()
    _access_take(unit_user, actor)
    _passphrase_store(unit_user, None)
    if unit_user.valid_until is None or unit_user.valid_until > now:
        unit_user.valid_until = now
    if unit_user.valid_from is not None and unit_user.valid_from > now:
        unit_user.valid_from = now
    unit_user.last_modified_by = actor
    unit_user.save()
    _event("unit_user.guest_ended", unit_user, actor)
    return unit_user


@transaction.atomic
def unit_user_remove(*, unit_user: UnitUser, actor: str) -> UnitUser:
    """The person leaves the unit for good (their account was deleted): what they had through
    the unit goes (membership or grants, passphrase) and the row is soft-deleted (event
    `unit_user.removed`). Unlike blocking, this may take the last UNIT user: there is no one
    left to protect. Removing a removed row changes nothing."""
    unit_user = _locked(unit_user)
    if unit_user.type_state == EntityTypeState.DELETED:
        return unit_user
    _access_take(unit_user, actor)
    _passphrase_store(unit_user, None)
    unit_user.type_state = EntityTypeState.DELETED
    unit_user.last_modified_by = actor
    unit_user.save()
    _event("unit_user.removed", unit_user, actor)
    return unit_user


def unit_users_of_deleted_user(*, user_id, actor: str) -> int:
    """Every unit row of a deleted person removed (the `user.deleted` handler); idempotent."""
    rows = list(UnitUser.objects.alive().filter(user_id=user_id))
    for unit_user in rows:
        unit_user_remove(unit_user=unit_user, actor=actor)
    return len(rows)


@transaction.atomic
def unit_user_update(
    *,
    unit_user: UnitUser,
    actor: str,
    user_name=KEEP,
    email=KEEP,
    phone_number=KEEP,
    passphrase=KEEP,
    status=KEEP,
) -> tuple[UnitUser, Event, Event | None]:
    """The seed's updateUnitUser: fields left KEEP stay; `passphrase=""` generates a new one.
    Returns (unit user, its `unit_user.updated` event, its `unit_user.passphrase_changed` event
    or None). A status change blocks or unblocks (see those services); all in one transaction."""
    _contact_clean(email=email, phone_number=phone_number, user_name=user_name)
    if status is not KEEP and status not in UnitUserStatus.values:
        _refuse("status", f"Must be one of {', '.join(UnitUserStatus.values)}.")
    if status == UnitUserStatus.BLOCKED:
        unit_user = unit_user_block(unit_user=unit_user, actor=actor)
    elif status == UnitUserStatus.ACTIVE:
        unit_user = unit_user_unblock(unit_user=unit_user, actor=actor)
    unit_user = _locked(unit_user)
    changed = []
    for name, value in (("user_name", user_name), ("email", email), ("phone_number", phone_number)):
        if value is not KEEP:
            value = value.strip() if name == "user_name" else value
            if getattr(unit_user, name) != value:
                setattr(unit_user, name, value)
                changed.append(name)
    dpsk_event = None
    if passphrase is not KEEP:
        if unit_user.status != UnitUserStatus.ACTIVE:
            _refuse("passphrase", "A blocked user has no passphrase.")
        if selectors.guest_expired(unit_user):
            _refuse("passphrase", "This guest's access has ended.")
        new = _passphrase_generated(unit_user) if passphrase == "" else _passphrase_chosen(unit_user, passphrase)
        _passphrase_store(unit_user, new)
        dpsk_event = _event(
            "unit_user.passphrase_changed", unit_user, actor, method="generated" if passphrase == "" else "chosen"
        )
    unit_user.last_modified_by = actor
    unit_user.full_clean()
    try:
        with transaction.atomic():
            unit_user.save()
    except IntegrityError:  # two people chose the same passphrase at once
        _refuse("passphrase", "This passphrase cannot be used; choose another.")
    persona_event = _event("unit_user.updated", unit_user, actor, changed=[_camel(n) for n in changed])
    return unit_user, persona_event, dpsk_event


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)
