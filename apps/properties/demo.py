"""Demo directory: one apartment building with its area tree, groups and ~50 people.

Everything goes through the services (actor "system"), so the demo data carries the same
events, area groups and tree fields (`containingAreaIds`, `depth`) as data made through the
API. Idempotent: when the demo property exists (by name) nothing is done.

Shape:

    Maple Court Apartments (America/New_York)
    ├── Main building                    common
    │   ├── Floor 1 … Floor 4            common
    │   │   └── Unit 101 … Unit 404      resident (4 per floor)
    │   │   ├── Lobby  (Floor 1)         common   free passage in office hours
    │   │   └── Management office        staff    (Floor 1)
    │   └── Gym                          common   Gym pass holders, in gym hours
    └── Parking garage                   common

Access (docs/ACCESS.md): Staff on the building (every door), Residents on each floor
(corridor doors and the lobby), each unit's own group on its door, Gym pass holders in gym
hours, Garage permit holders at the gate; one lock per area; a dog walker holds a GUEST
grant to Unit 101 for a month.

Custom groups: Gym pass holders, Garage permit holders, Maintenance staff. Residents are in their
unit's area group and the property's Residents group; staff in Staff, Maintenance staff and the
office's area group. A property manager (owner grant scoped to the property, property owner
and access manager) signs in with a password printed once.
"""

import secrets
from datetime import timedelta

from django.utils import timezone

from apps.access import services as access
from apps.access.models import UserGroupGroupType
from apps.accounts import services as accounts
from apps.accounts.demo import DEMO_RESIDENT_EMAIL
from apps.accounts.models import User
from apps.areas.models import Area, AreaAreaType
from apps.core.actors import SYSTEM
from apps.core.principal import Grant
from apps.locks import services as locks
from apps.locks.models import Lock
from apps.properties.models import Property

DEMO_PROPERTY_NAME = "Maple Court Apartments"
DEMO_ADDRESS = {
    "line1": "1200 Maple Court",
    "city": "Arlington",
    "state": "VA",
    "country": "US",
    "postalCode": "22201",
}
DEMO_TIME_ZONE = "America/New_York"
FLOORS = 4
UNITS_PER_FLOOR = 4
MANAGER = ("Dana", "Whitfield", "dana.whitfield@example.com")
STAFF = (("Marcus", "Bell"), ("Priya", "Raman"), ("Tomás", "Herrera"))
# Residents: (first, last) per unit, in unit order 101, 102, … 404 (2–4 per unit, 46 in all).
RESIDENTS = (
    (("Olivia", "Martinez"), ("Daniel", "Martinez"), ("Sofia", "Martinez")),
    (("Ethan", "Brooks"), ("Grace", "Brooks"), ("Lily", "Brooks")),
    (("Sophia", "Nguyen"), ("Minh", "Nguyen"), ("Linh", "Nguyen")),
    (("James", "O'Connor"), ("Aisha", "Khan"), ("Noah", "Fischer")),
    (("Emma", "Johnson"), ("Liam", "Johnson"), ("Nora", "Johnson")),
    (("Isabella", "Rossi"), ("Marco", "Rossi"), ("Giulia", "Rossi")),
    (("Benjamin", "Carter"), ("Chloe", "Carter")),
    (("Mia", "Thompson"), ("Lucas", "Silva"), ("Caleb", "Thompson")),
    (("Harper", "Lee"), ("Jun", "Lee"), ("Ava", "Lee"), ("Ryan", "Lee")),
    (("Samuel", "Adeyemi"), ("Ngozi", "Adeyemi"), ("Tobi", "Adeyemi")),
    (("Charlotte", "Dubois"), ("Henri", "Dubois")),
    (("Elijah", "Washington"), ("Zoe", "Washington"), ("Maya", "Washington")),
    (("Amelia", "Kowalski"), ("Piotr", "Kowalski"), ("Zofia", "Kowalski")),
    (("Henry", "Patel"), ("Anika", "Patel"), ("Ravi", "Patel")),
    (("Evelyn", "Schmidt"), ("Jonas", "Schmidt")),
    (("Alexander", "Kim"), ("Hana", "Kim"), ("Leo", "Garcia")),
)


def _email(first: str, last: str) -> str:
    local = f"{first}.{last}".lower().replace("'", "").replace("á", "a").replace(" ", "")
    return f"{local}@example.com"


def _phone(n: int) -> str:
    """E.164 numbers in the 555-01xx block, reserved for fiction."""
    return f"+1202555{100 + n:04d}"


def _person(first: str, last: str, n: int, **extra) -> User:
    email = _email(first, last)
    existing = User.objects.alive().filter(email=email).first()
    if existing is not None:
        return existing
    return accounts.user_create(
        email=email,
        display_name=f"{first} {last}",
        first_name=first,
        last_name=last,
        phone_number=_phone(n),
        actor=SYSTEM,
        **extra,
    )


def _group_entry(group) -> dict:
    return {"accessType": "group", "userGroupId": str(group.pk)}


def seed_demo(stdout) -> None:
    if Property.objects.alive().filter(display_name=DEMO_PROPERTY_NAME).exists():
        return

    password = secrets.token_urlsafe(12)
    first, last, email = MANAGER
    manager = User.objects.alive().filter(email=email).first()
    created_manager = manager is None
    if created_manager:
        manager = accounts.user_create(
            email=email,
            display_name=f"{first} {last}",
            first_name=first,
            last_name=last,
            phone_number=_phone(0),
            password=password,
            actor=SYSTEM,
        )
    prop = access.property_create(
        display_name=DEMO_PROPERTY_NAME,
        address=DEMO_ADDRESS,
        time_zone=DEMO_TIME_ZONE,
        owner_id=manager.pk,
        access_manager_ids=[manager.pk],
        actor=SYSTEM,
    )
    # The manager owns the property: a grant names only a property that exists, so it comes after.
    grants = [Grant(g.permission, g.property_id, g.scope_user_id) for g in manager.grants.all()]
    accounts.user_update(user=manager, grants=[*grants, Grant("owner", property_id=prop.pk)], actor=SYSTEM)

    groups = {g.display_name: g for g in prop.user_groups.alive()}  # Residents, Staff
    for name, group_type in (
        ("Gym pass holders", UserGroupGroupType.COMMON),
        ("Garage permit holders", UserGroupGroupType.COMMON),
        ("Maintenance staff", UserGroupGroupType.STAFF),
    ):
        groups[name] = access.user_group_create(prop=prop, display_name=name, group_type=group_type, actor=SYSTEM)

    def area(name, area_type, parent=None, access_list=None) -> Area:
        return access.area_create(
            prop=prop,
            display_name=name,
            area_type=area_type,
            parent_id=parent.pk if parent else None,
            access_list=access_list,
            actor=SYSTEM,
        )

    # docs/ACCESS.md: an entry reaches common sub-areas, a staff entry every sub-area. So Staff
    # sits on the building; Residents on each floor (corridors, and the lobby on Floor 1);
    # the gym hangs off the building, so only Gym pass holders get in, and only in gym hours.
    gym_hours = access.schedule_create(
        prop=prop,
        display_name="Gym hours",
        windows=[{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "06:00", "stop": "23:00"}],
        actor=SYSTEM,
    )
    office_hours = access.schedule_create(
        prop=prop,
        display_name="Lobby open (office hours)",
        windows=[{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "stop": "18:00"}],
        actor=SYSTEM,
    )
    building = area("Main building", AreaAreaType.COMMON, access_list=[_group_entry(groups["Staff"])])
    floors = [
        area(f"Floor {n}", AreaAreaType.COMMON, building, access_list=[_group_entry(groups["Residents"])])
        for n in range(1, FLOORS + 1)
    ]
    units = [
        area(f"Unit {floor_no}{n:02d}", AreaAreaType.RESIDENT, floor)
        for floor_no, floor in enumerate(floors, start=1)
        for n in range(1, UNITS_PER_FLOOR + 1)
    ]
    lobby = area(
        "Lobby",
        AreaAreaType.COMMON,
        floors[0],
        access_list=[{"accessType": "schedule", "scheduleId": str(office_hours.pk)}],
    )
    office = area(
        "Management office",
        AreaAreaType.STAFF,
        floors[0],
        access_list=[_group_entry(groups["Maintenance staff"])],
    )
    gym = area(
        "Gym",
        AreaAreaType.COMMON,
        building,
        access_list=[{**_group_entry(groups["Gym pass holders"]), "scheduleId": str(gym_hours.pk)}],
    )
    garage = area(
        "Parking garage",
        AreaAreaType.COMMON,
        access_list=[_group_entry(groups["Garage permit holders"]), _group_entry(groups["Staff"])],
    )
    for place, door in (
        (lobby, "Main entrance"),
        (gym, "Gym door"),
        (garage, "Garage gate"),
        (office, "Office door"),
        *((floor, f"{floor.display_name} stairwell door") for floor in floors),
        *((unit, f"{unit.display_name} door") for unit in units),
    ):
        lock = locks.lock_create(display_name=door, prop=prop, actor=SYSTEM)
        locks.lock_install(lock=lock, area=place, actor=SYSTEM)

    def join(group, user) -> None:
        access.membership_add(group=group, user=user, actor=SYSTEM)

    join(groups["Staff"], manager)
    join(office.area_user_group, manager)
    n = 1
    for first, last in STAFF:
        person = _person(first, last, n)
        n += 1
        for group in (groups["Staff"], groups["Maintenance staff"], office.area_user_group):
            join(group, person)
    for unit, household in zip(units, RESIDENTS, strict=True):
        for index, (first, last) in enumerate(household):
            person = _person(first, last, n)
            join(unit.area_user_group, person)
            join(groups["Residents"], person)
            if n % 3 == 0:
                join(groups["Gym pass holders"], person)
            if index == 0 and n % 2 == 0:  # one parking permit per household, for some households
                join(groups["Garage permit holders"], person)
            n += 1

    # The app's demo sign-in (apps/accounts/demo.py, seeded first) lives in Unit 101 with a gym
    # pass, so a phone provisioned with it receives a map of real doors.
    resident = User.objects.alive().filter(email=DEMO_RESIDENT_EMAIL).first()
    if resident is not None:
        for group in (units[0].area_user_group, groups["Residents"], groups["Gym pass holders"]):
            join(group, resident)

    walker = _person("Robin", "Walker", n)  # a dog walker with a guest key to one unit for a month
    access.grant_create(
        prop=prop,
        user=walker,
        lock=Lock.objects.get(property=prop, display_name="Unit 101 door"),
        access_level="GUEST",
        valid_until=timezone.now() + timedelta(days=30),
        actor=f"user:{manager.pk}",
    )

    stdout.write(
        f"Demo property: {DEMO_PROPERTY_NAME} ({prop.pk}): {Area.objects.filter(property=prop).count()} areas, "
        f"{Lock.objects.filter(property=prop).count()} locks, {n + 1} people"
    )
    if created_manager:
        stdout.write(f"Demo property manager (owner of {DEMO_PROPERTY_NAME}), shown once: {email} / {password}")
