"""Portal demo data: Unit 101 of the demo property with its people as unit users (the first
UNIT, the rest LINKED; the app's demo sign-in among them), the Wi-Fi name, and a fresh
sign-in link printed on every run (the token is shown once, so each run rotates it)."""

from django.conf import settings

from apps.areas.models import Area
from apps.core.actors import SYSTEM
from apps.portal import selectors, services
from apps.portal.models import UnitUser, UnitUserType
from apps.properties.demo import DEMO_PROPERTY_NAME
from apps.properties.models import Property

DEMO_UNIT = "Unit 101"
DEMO_WIFI = "MapleCourt-Residents"


def seed_demo(stdout) -> None:
    prop = Property.objects.alive().filter(display_name=DEMO_PROPERTY_NAME).first()
    unit = Area.objects.alive().filter(property=prop, display_name=DEMO_UNIT).first() if prop else None
    if unit is None:
        return
    if not selectors.portal_settings(property_id=prop.pk).wifi_network_name:
        services.portal_settings_update(prop=prop, wifi_network_name=DEMO_WIFI, actor=SYSTEM)
    if not UnitUser.objects.filter(area=unit).exists():
        members = list(unit.area_user_group.members.alive().order_by("id"))
        for index, person in enumerate(members):
            user_type = UnitUserType.UNIT if index == 0 else UnitUserType.LINKED
            services.unit_user_create(area=unit, user=person, user_type=user_type, actor=SYSTEM)
    _, secret = services.unit_token_rotate(area=unit, actor=SYSTEM)
    base = settings.KEYHOUSE_PORTAL_URL.rstrip("/")
    stdout.write(f"Resident portal for {DEMO_UNIT} (a new link each run; the old one stops): {base}/access/{secret}")
