"""Authorization matrix over the whole OpenAPI schema: every operation, eleven callers that
must be refused (tests/api/test_isolation_matrix.py checks operations 1–25 in depth, with
the callers that must succeed too).

The operations come from the schema the server publishes, so a new operation joins the
matrix by being in the schema; one whose path names an object this world does not hold
fails `test_every_operation_is_in_the_matrix` until a value is added to `path_values`.

| caller                | what it is                                        | refused with |
|-----------------------|---------------------------------------------------|--------------|
| `anonymous`           | no credential                                     | 401 |
| `garbage`             | a bearer secret nobody issued                     | 401 |
| `revoked_key`         | an `owner` key of property A, revoked             | 401 |
| `expired_token`       | A's resident's sign-in token, past its expiry     | 401 |
| `without_permission`  | a key of A holding a permission the operation's rule lacks | 403 |
| `read_only`           | `support` on A, where the rule lacks `support`    | 403 |
| `other_property`      | an `owner` key of property B                      | by scope (below) |
| `someone_else`        | B's resident's sign-in token (`me`)               | by scope |
| `lock`                | B's lock with its own credential                  | by scope |
| `cross_ids`           | B's `owner` key, B's property (and person) in the path, A's other ids | 404 |
| `other_unit`          | the portal token of a unit of property B          | by scope |

The resident portal's operations (scope `portal`) answer 404 to every credential that is not
a resident of the path's property, staff keys included (docs/PORTAL.md).

`cross_ids` is the classic IDOR: a path the caller may use (its own property) naming an
object of another one. It runs where the path names such an object.

"By scope" (apps/core/operations.py): a caller whose kind of permission the rule lacks gets
403; one that has it but not for A's objects gets 404, byte for byte the 404 of an id that
does not exist; for scope `any` and `self` it may get a 2xx, and then nothing of property A
is in the answer. Every refusal writes no event.

Writes are sent with an empty body: who may call is decided before what was sent is read,
so a refusal never depends on (or reveals anything through) the body.
"""

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.access import services as access_services
from apps.accounts.models import UserToken
from apps.accounts.services import api_key_create, api_key_revoke, user_token_create
from apps.core.actors import SYSTEM
from apps.core.operations import GRANTABLE_PERMISSIONS, ME, OPERATIONS, RESIDENT, SUPPORT, Scope
from apps.core.principal import Grant
from apps.events.models import Event
from apps.imports.services import import_run_create
from apps.keys import crypto
from apps.locks import services as lock_services
from apps.portal.services import unit_create
from tests.devices.factories import device_provision
from tests.factories import directory as d
from tests.factories.integrations import lockt_account, lockt_fob_record, lockt_mark

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PASSWORD = "correct horse battery"
NOT_FOUND = {"success": False, "error": "Not found.", "data": {}}
METHODS = ("get", "post", "put", "patch", "delete")


def _schema_operations() -> dict[str, tuple[str, str]]:
    """operationId → (method, path) of every operation the server publishes."""
    response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    return {
        operation["operationId"]: (method, path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def _place(name: str, member_email: str) -> SimpleNamespace:
    """A property with one of everything a path can name."""
    prop = d.property_create(display_name=name)
    area = d.area_create(prop, display_name=f"{name} Tower")
    member = d.user_create(email=member_email, password=PASSWORD)
    group = d.group_create(prop, members=[member])
    provisioned = lock_services.lock_provision(
        display_name=f"{name} Door", lock_key=crypto.generate(crypto.ED25519).public, actor=SYSTEM, prop=prop, area=area
    )
    schedule = access_services.schedule_create(
        prop=prop, display_name="Weekdays", windows=[{"days": ["mon"], "start": "08:00", "stop": "18:00"}], actor=SYSTEM
    )
    grant = access_services.grant_create(
        prop=prop, user=member, access_level="USER", lock=provisioned.lock, actor=SYSTEM
    )
    device, _ = device_provision(member)
    api_key, _ = api_key_create(display_name=f"{name} key", grants=[Grant("owner", property_id=prop.pk)], actor=SYSTEM)
    account = lockt_account(prop, base_url="http://127.0.0.1:9/lockt")  # never called here
    fob_record = lockt_fob_record(account)
    mark = lockt_mark(account, group=group)
    _, unit_token = unit_create(prop=prop, display_name=f"{name} Unit 1", actor=SYSTEM)
    import_run = import_run_create(
        prop=prop, kind="users", mode="merge", file_name="people.csv", content=b"email\r\n", actor=SYSTEM
    )
    event = Event.objects.filter(property_id=prop.pk).order_by("-created_at").first()
    return SimpleNamespace(
        prop=prop,
        area=area,
        member=member,
        group=group,
        lock=provisioned.lock,
        lock_secret=provisioned.secret,
        schedule=schedule,
        grant=grant,
        device=device,
        api_key=api_key,
        account=account,
        fob_record=fob_record,
        mark=mark,
        unit_token=unit_token,
        import_run=import_run,
        event=event,
    )


@pytest.fixture
def world():
    a = _place("A", "a.resident@example.test")
    b = _place("B", "b.resident@example.test")
    return SimpleNamespace(a=a, b=b)


PATH_PARAMETERS = frozenset(
    {"propertyId", "areaId", "userGroupId", "userId", "lockId", "scheduleId", "grantId"}
    | {"userDeviceId", "apiKeyId", "eventId", "accountId", "importId", "deviceId", "kind", "version"}
    | {"recordId", "markId"}
)


NOT_OBJECTS = frozenset({"version", "kind"})  # path parameters that name no object of a property


def path_values(a) -> dict[str, str]:
    """A value of property A for each of PATH_PARAMETERS."""
    return {
        "propertyId": str(a.prop.pk),
        "areaId": str(a.area.pk),
        "userGroupId": str(a.group.pk),
        "userId": str(a.member.pk),
        "lockId": str(a.lock.pk),
        "scheduleId": str(a.schedule.pk),
        "grantId": str(a.grant.pk),
        "userDeviceId": str(a.device.pk),
        "deviceId": str(a.device.pk),  # the portal's name for a person's phone
        "apiKeyId": str(a.api_key.pk),
        "eventId": str(a.event.pk),
        "accountId": str(a.account.pk),
        "recordId": str(a.fob_record.pk),
        "markId": str(a.mark.pk),
        "importId": str(a.import_run.pk),
        "kind": "users",  # an export kind: not a property's object
        "version": "1.0.0",  # firmware is not a property's: scope `any`, checked below
    }


def _a_ids(a) -> set[str]:
    return {v for k, v in path_values(a).items() if k not in NOT_OBJECTS} | {str(a.area.area_user_group.pk)}


def _bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _key(*grants: Grant) -> APIClient:
    _, secret = api_key_create(display_name="matrix", grants=list(grants), actor=SYSTEM)
    return _bearer(secret)


def _person(user) -> APIClient:
    _, secret = user_token_create(email=user.email, password=PASSWORD)
    return _bearer(secret)


def _without_permission(rule) -> str | None:
    spare = [p for p in GRANTABLE_PERMISSIONS if p not in rule.permissions and p != ME]
    return spare[0] if spare else None


def caller_client(w, caller: str, rule) -> APIClient | None:
    a, b = w.a, w.b
    if caller == "anonymous":
        return APIClient()
    if caller == "garbage":
        return _bearer("khk_000000000000_" + "x" * 43)
    if caller == "revoked_key":
        api_key, secret = api_key_create(
            display_name="revoked", grants=[Grant("owner", property_id=a.prop.pk)], actor=SYSTEM
        )
        api_key_revoke(api_key=api_key, actor=SYSTEM)
        return _bearer(secret)
    if caller == "expired_token":
        token, secret = user_token_create(email=a.member.email, password=PASSWORD)
        UserToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        return _bearer(secret)
    if caller == "without_permission":
        permission = _without_permission(rule)
        return _key(Grant(permission, property_id=a.prop.pk)) if permission else None
    if caller == "read_only":
        return None if SUPPORT in rule.permissions else _key(Grant(SUPPORT, property_id=a.prop.pk))
    if caller == "other_property":
        return _key(Grant("owner", property_id=b.prop.pk))
    if caller == "someone_else":
        return _person(b.member)
    if caller == "lock":
        return _bearer(b.lock_secret)
    if caller == "cross_ids":
        return _key(Grant("owner", property_id=b.prop.pk))
    if caller == "other_unit":
        return _bearer(b.unit_token)
    raise AssertionError(caller)


# caller → the permission its credential carries (for "by scope" callers)
CALLER_PERMISSION = {"other_property": "owner", "someone_else": ME, "lock": "lock", "other_unit": RESIDENT}
CALLERS = (
    "anonymous",
    "garbage",
    "revoked_key",
    "expired_token",
    "without_permission",
    "read_only",
    "other_property",
    "someone_else",
    "lock",
    "cross_ids",
    "other_unit",
)
# path parameters that place a call: in `cross_ids` they name B's, every other one A's
ANCHORS = ("propertyId", "userId")


def expected(caller: str, rule) -> set[int]:
    """The statuses that refuse `caller` (a set: `any`/`self` scopes may answer 2xx)."""
    if caller in ("anonymous", "garbage", "revoked_key", "expired_token"):
        return {401}
    if rule.scope == Scope.PORTAL:
        return {404}  # the portal answers only a resident of that property (docs/PORTAL.md)
    if caller in ("without_permission", "read_only"):
        return {403}
    if caller == "cross_ids":
        return {403} if rule.scope == Scope.GLOBAL or "owner" not in rule.permissions else {404}
    if CALLER_PERMISSION[caller] not in rule.permissions:
        return {403}
    if rule.scope in (Scope.PROPERTY, Scope.USER, Scope.OBJECT):
        return {404}
    if rule.scope == Scope.GLOBAL:
        return {403}
    return {200, 400, 403, 404}  # any / self: the caller's own answer, checked for A's data


@pytest.fixture(scope="module")
def schema_operations(django_db_blocker):
    with django_db_blocker.unblock():
        return _schema_operations()


def test_every_operation_is_in_the_matrix(schema_operations):
    """Every published operation has a rule and every path parameter has a value of A's."""
    assert set(schema_operations) == set(OPERATIONS), "an operation is in the schema or the map, not both"
    for op_id, (_, path) in schema_operations.items():
        params = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        assert params <= PATH_PARAMETERS, f"{op_id}: add a value for {params - PATH_PARAMETERS} to path_values()"


def _operation_ids() -> list[str]:
    return sorted(op for op, rule in OPERATIONS.items() if rule.scope != Scope.PUBLIC)


def _refusal_problem(world, schema_operations, op_id: str, caller: str) -> str | None:
    """What is wrong with how `op_id` answers `caller` (None: refused as documented)."""
    rule = OPERATIONS[op_id]
    client = caller_client(world, caller, rule)
    if client is None:
        return None  # the rule admits every credential of this kind: nothing to refuse
    method, path = schema_operations[op_id]
    values = path_values(world.a)
    if caller == "cross_ids":
        params = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        if not params - set(ANCHORS) - NOT_OBJECTS:
            return None  # the path names no object besides the property or person
        values |= {k: v for k, v in path_values(world.b).items() if k in ANCHORS}
    url = path.format(**values)
    events_before = Event.objects.count()

    response = getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)

    status, text = response.status_code, response.content.decode(errors="replace")
    if status not in expected(caller, rule):
        return f"{status}, expected {sorted(expected(caller, rule))}: {text[:200]}"
    if status == 404 and response.json() != NOT_FOUND:
        return f"a 404 that says more than 'Not found.': {text[:200]}"
    if status >= 400 and Event.objects.count() != events_before:
        return "a refused call left an event behind"
    leaked = [i for i in _a_ids(world.a) if i in text]
    if leaked:
        return f"answered with property A's ids {leaked}"
    return None


@pytest.mark.parametrize("op_id", _operation_ids())
def test_refused(world, schema_operations, op_id):
    """One world per operation, every caller in turn (720 worlds would cost a minute)."""
    problems = {caller: _refusal_problem(world, schema_operations, op_id, caller) for caller in CALLERS}
    assert not {k: v for k, v in problems.items() if v}, f"{op_id} answered wrongly: {problems}"
