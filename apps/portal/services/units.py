"""Portal settings, unit tokens and units (a unit is a `resident` area with its token)."""

from django.db import transaction
from django.utils import timezone

from apps.access import services as access_services
from apps.accounts.credentials import current_pepper_id, secret_digest, secret_generate
from apps.areas.models import Area, AreaAreaType
from apps.events.services import event_append
from apps.portal.models import UNIT_TOKEN_KIND, PortalSettings, UnitToken
from apps.portal.services.common import _refuse

# --- settings and tokens ----------------------------------------------------------------------


@transaction.atomic
def portal_settings_update(*, prop, actor: str, **fields) -> PortalSettings:
    """Change a property's portal settings (event `portal_settings.updated`)."""
    found, _ = PortalSettings.objects.select_for_update().get_or_create(property=prop)
    for name, value in fields.items():
        setattr(found, name, value)
    found.full_clean()
    found.save()
    event_append(
        event_name="portal_settings.updated", actor=actor, property_id=prop.pk, payload={"changed": sorted(fields)}
    )
    return found


@transaction.atomic
def unit_token_rotate(*, area: Area, actor: str) -> tuple[UnitToken, str]:
    """Give a unit a new token; the old one stops working at once (events `unit_token.created`
    the first time, `unit_token.rotated` after). Returns (token, secret): the secret exists only
    in this return value."""
    if area.area_type != AreaAreaType.RESIDENT or area.type_state == "deleted":
        _refuse("areaId", "Only a live resident area (a unit) has a portal token.")
    Area.objects.select_for_update().filter(pk=area.pk).first()  # one rotation at a time per unit
    revoked = UnitToken.objects.filter(area=area, revoked_at__isnull=True).update(revoked_at=timezone.now())
    parsed = secret_generate(UNIT_TOKEN_KIND)
    pepper_id = current_pepper_id()
    token = UnitToken.objects.create(
        area=area,
        prefix=parsed.prefix,
        digest=secret_digest(parsed.secret, pepper_id),
        pepper_id=pepper_id,
        created_by=actor,
    )
    refs = {"property_id": area.property_id, "area_id": area.pk, "payload": {"unitTokenId": str(token.pk)}}
    if revoked:
        event_append(event_name="unit_token.rotated", actor=actor, **refs)
    else:
        event_append(event_name="unit_token.created", actor=actor, **refs)
    return token, parsed.secret


@transaction.atomic
def unit_create(*, prop, display_name: str, actor: str, parent_id=None) -> tuple[Area, str]:
    """A unit: a resident area (with its area group) and its first token (shown once)."""
    area = access_services.area_create(
        prop=prop, display_name=display_name, area_type=AreaAreaType.RESIDENT, parent_id=parent_id, actor=actor
    )
    _, secret = unit_token_rotate(area=area, actor=actor)
    return area, secret
