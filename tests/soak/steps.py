"""The soak's steps inside Django (tests/soak/run.py runs each in a fresh process on the soak's
database; each prints one JSON line, the last line of its stdout):

    python -m tests.soak.steps seed    # the soak property, its key, units, residents
    python -m tests.soak.steps check   # after the load: events, derived access, key maps

`seed` writes through the services (as the admin would): one property with a lobby and
UNITS resident units, a resident per unit (a password, for their phone), CHURN people whose
memberships the load adds and removes, and an API key (owner + provision-lock). Locks and
phones are provisioned by the load generator over HTTP, as installers and apps do.

`check` is what "nothing lost" means at the end: every event processed (none failing), the
derived access equal to a rebuild from scratch (a rebuild changes nothing), and every lock's
signed key map current (a build signs nothing new).
"""

import json
import sys

import django

UNITS = 8
CHURN = 12
PASSWORD = "soak resident password"


def seed() -> dict:
    from apps.access import services as access_services
    from apps.access.models import UserGroup, UserGroupGroupSource
    from apps.accounts import services as account_services
    from apps.core.actors import SYSTEM
    from apps.core.principal import Grant
    from apps.properties.demo import DEMO_ADDRESS

    prop = access_services.property_create(
        display_name="Soak Court", address=DEMO_ADDRESS, time_zone="Europe/Berlin", actor=SYSTEM
    )
    lobby = access_services.area_create(prop=prop, display_name="Lobby", area_type="common", actor=SYSTEM)
    units, residents = [], []
    for n in range(UNITS):
        unit = access_services.area_create(
            prop=prop, display_name=f"Unit {n + 1}", area_type="resident", parent_id=lobby.pk, actor=SYSTEM
        )
        person = account_services.user_create(
            email=f"resident-{n}@soak.invalid", display_name=f"Resident {n + 1}", password=PASSWORD, actor=SYSTEM
        )
        access_services.membership_add(group=unit.area_user_group, user=person, actor=SYSTEM)
        units.append({"areaId": str(unit.pk), "groupId": str(unit.area_user_group.pk)})
        residents.append({"userId": str(person.pk), "email": person.email})
    # Visitors live here (the Residents group), so the property's key may name them; the load
    # adds them to units' groups and takes them out again.
    residents_group = UserGroup.objects.get(
        property=prop, group_source=UserGroupGroupSource.PROPERTY, group_type="resident"
    )
    churn = []
    for n in range(CHURN):
        visitor = account_services.user_create(
            email=f"visitor-{n}@soak.invalid", display_name=f"Visitor {n + 1}", actor=SYSTEM
        )
        access_services.membership_add(group=residents_group, user=visitor, actor=SYSTEM)
        churn.append(str(visitor.pk))
    _, secret = account_services.api_key_create(
        display_name="soak",
        grants=[Grant("owner", property_id=prop.pk), Grant("provision-lock", property_id=prop.pk)],
        actor=SYSTEM,
    )
    return {
        "propertyId": str(prop.pk),
        "lobbyId": str(lobby.pk),
        "units": units,
        "residents": residents,
        "churn": churn,
        "password": PASSWORD,
        "secret": secret,
    }


def check() -> dict:
    from apps.access import derive
    from apps.events.constants import FAILING_AFTER_ATTEMPTS
    from apps.events.models import Event
    from apps.locks import services as lock_services
    from apps.locks.models import Lock
    from apps.properties.models import Property

    prop = Property.objects.get(display_name="Soak Court")
    unprocessed = Event.objects.filter(processed_at__isnull=True)
    rebuilt = derive.property_rebuild(property_id=prop.pk)
    build = lock_services.key_maps_build(property_id=prop.pk)
    locks = Lock.objects.filter(property=prop)
    return {
        "events": Event.objects.count(),
        "unprocessed": unprocessed.count(),
        "failing": unprocessed.filter(attempts__gte=FAILING_AFTER_ATTEMPTS).count(),
        "retried": Event.objects.filter(attempts__gt=1).count(),
        # One per write the load was told succeeded (each write is a real change, by the soak's key)
        "membership_events": Event.objects.filter(
            event_name__in=("group.member_added", "group.member_removed"), last_modified_by__startswith="apiKey:"
        ).count(),
        "rebuild_locks_changed": len(rebuilt.locks_changed),
        "rebuild_users_changed": len(rebuilt.users_changed),
        "build_signed": build.locks_signed if build else 0,
        "signed_versions": {str(lock.pk): lock.signed_key_map_version for lock in locks},
        "applied_versions": {str(lock.pk): lock.applied_key_map_version for lock in locks},
    }


if __name__ == "__main__":
    django.setup()
    steps = {"seed": seed, "check": check}
    if len(sys.argv) < 2 or sys.argv[1] not in steps:
        sys.exit("usage: python -m tests.soak.steps seed|check")
    print(json.dumps(steps[sys.argv[1]]()))
