"""Schema-driven fuzzing: schemathesis over the whole published schema, every check, 0 failures.

The server is Django's live server on 127.0.0.1 (pytest-django's `live_server`), so every
request crosses a real socket, the real WSGI stack and the middleware, and commits as it would
in production (on-commit work included). The schema is the one the server publishes at
/api/v1/schema/ (the portal's operations are in it), so a new operation is fuzzed by being
published.

What the fuzzer needs to go past the door (docs/RELIABILITY.md):

- a world with an object for every path parameter (`FuzzWorld`): a generated id that has the
  right form is swapped for the world's, so most requests reach the code behind the lookup;
  an id of the wrong form is sent as generated (the negative cases);
- a credential that may call each operation (`FuzzWorld.credential`, from the permission map);
- signatures: a lock's and a phone's sync body is signed with the test keys after the fuzzer
  drew it (and its clock, counter and ids set to what a live device would send), so the sync
  operations are fuzzed past their signature check;
- a fresh world after a call that removed what the world lends (a 2xx DELETE, a revocation).

Select it with `-m fuzz`; FUZZ_EXAMPLES (default 5) bounds the examples per operation.
"""

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.conf import settings as django_settings

from apps.access import services as access_services
from apps.accounts.services import api_key_create, user_token_create
from apps.core.actors import SYSTEM
from apps.core.operations import LOCK, MANAGE_FIRMWARE, ME, OPERATIONS, OWNER, Scope
from apps.core.principal import Grant
from apps.events.models import Event
from apps.imports.services import import_run_create
from apps.keys import canonical, crypto
from apps.locks import services as lock_services
from apps.portal.services import unit_create
from tests.devices.factories import device_provision
from tests.factories import directory as d
from tests.factories.integrations import lockt_account, lockt_fob_record, lockt_person_link
from tests.fuzzing import fuzz_config, module_live_server, parse_instant

pytestmark = [pytest.mark.fuzz, pytest.mark.usefixtures("fast_password_hashing")]

PASSWORD = "correct horse battery"
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "20"))  # scenarios of up to 6 calls
FIRMWARE_VERSION = "1.0.0"
# Calls after whose success the world no longer holds what it lends.
DESTRUCTIVE = frozenset({"deprovisionLock", "uninstallLock", "revokeApiKey", "applyImport", "cancelImport"})


def _now() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass
class FuzzWorld:
    """One property with one of everything a path can name, and a credential for each caller kind."""

    values: dict = field(default_factory=dict)
    owner: str = ""  # an unscoped owner key
    firmware: str = ""  # an unscoped manage-firmware key
    person: str = ""  # the member's sign-in token (`me`)
    unit: str = ""  # the unit's portal token
    lock_secret: str = ""
    lock_key: crypto.KeyPair | None = None
    phone: object = None
    sequence: int = 0
    dirty: bool = True

    def build(self) -> None:
        n = uuid.uuid4().hex[:8]
        prop = d.property_create(display_name=f"Fuzz {n}", time_zone="Europe/London")
        area = d.area_create(prop, display_name="Tower")
        lobby = d.area_create(prop, display_name="Lobby")  # a parent an area may move under
        member = d.user_create(email=f"member.{n}@example.test", password=PASSWORD)
        group = d.group_create(prop, members=[member])
        self.lock_key = crypto.generate(crypto.ED25519)
        provisioned = lock_services.lock_provision(
            display_name="Front door",
            lock_key=self.lock_key.public,
            lock_seal_key=crypto.generate(crypto.X25519).public,
            actor=SYSTEM,
            prop=prop,
            area=area,
        )
        schedule = access_services.schedule_create(
            prop=prop,
            display_name="Weekdays",
            windows=[{"days": ["mon"], "start": "08:00", "stop": "18:00"}],
            actor=SYSTEM,
        )
        grant = access_services.grant_create(
            prop=prop, user=member, access_level="USER", lock=provisioned.lock, actor=SYSTEM
        )
        device, self.phone = device_provision(member)
        spare_key, _ = api_key_create(display_name="spare", grants=[Grant(OWNER, property_id=prop.pk)], actor=SYSTEM)
        account = lockt_account(prop, base_url="http://127.0.0.1:9/lockt")  # a closed port: polls fail fast
        fob_record = lockt_fob_record(account)
        lockt_person_link(account, member)  # a holder reassignLocktFob accepts
        markable = access_services.user_group_create(  # createLocktMark takes custom groups only
            prop=prop, display_name="Pool pass", group_type="common", actor=SYSTEM
        )
        _, self.unit = unit_create(prop=prop, display_name="Unit 1", actor=SYSTEM)
        people = f"email,displayName\r\nfuzz.{n}@example.test,Fuzz\r\n".encode()  # valid: applyImport may apply it
        import_run = import_run_create(
            prop=prop, kind="users", mode="merge", file_name="people.csv", content=people, actor=SYSTEM
        )
        _, self.owner = api_key_create(display_name="fuzz owner", grants=[Grant(OWNER)], actor=SYSTEM)
        _, self.firmware = api_key_create(display_name="fuzz firmware", grants=[Grant(MANAGE_FIRMWARE)], actor=SYSTEM)
        _, self.person = user_token_create(email=member.email, password=PASSWORD)
        self.lock_secret = provisioned.secret
        # The lock's first key map, signed now: with a live worker (PostgreSQL + Redis) the
        # build is queued, and a lock sync's acknowledgement names the map it applied.
        lock_services.key_maps_build(property_id=prop.pk)
        event = Event.objects.filter(property_id=prop.pk).order_by("-created_at").first()
        self.values = {
            "propertyId": str(prop.pk),
            "areaId": str(area.pk),
            "userGroupId": str(group.pk),
            "userId": str(member.pk),
            "lockId": str(provisioned.lock.pk),
            "scheduleId": str(schedule.pk),
            "grantId": str(grant.pk),
            "userDeviceId": str(device.pk),
            "deviceId": str(device.pk),
            "apiKeyId": str(spare_key.pk),
            "eventId": str(event.pk),
            "accountId": str(account.pk),
            "recordId": str(fob_record.pk),
            "holderId": str(member.pk),
            "markGroupId": str(markable.pk),
            "importId": str(import_run.pk),
            "version": FIRMWARE_VERSION,
            "kind": "users",
            "parentAreaId": str(lobby.pk),
        }
        self.dirty = False

    # -- what a case is sent with --------------------------------------------------------------
    def credential(self, operation_id: str) -> str | None:
        rule = OPERATIONS[operation_id]
        if rule.scope == Scope.PUBLIC:
            return None
        if rule.scope == Scope.PORTAL:
            return self.unit
        if rule.permissions == {LOCK}:
            return self.lock_secret
        if operation_id == "revokeAuthToken":  # it ends the token it is called with: a fresh one
            member = self.values["userId"]
            from apps.accounts.models import User

            return user_token_create(email=User.objects.get(pk=member).email, password=PASSWORD)[1]
        if OWNER not in rule.permissions and ME in rule.permissions:
            return self.person
        if OWNER not in rule.permissions and MANAGE_FIRMWARE in rule.permissions:
            return self.firmware
        return self.owner

    def prepare(self, case, operation_id: str, base_url: str, linked: frozenset = frozenset()) -> None:
        """Swap well-formed generated ids, keys and page tokens for live ones; sign what a device signs.

        `linked` names the path parameters an OpenAPI link filled (stateful phase): kept as sent."""
        if self.dirty:
            self.build()
        for name, value in list(case.path_parameters.items()):
            if name not in linked and name in self.values and _well_formed(name, value):
                case.path_parameters[name] = self.values[name]
        # Assign only what changed: schemathesis re-decides a modified case's positive/negative
        # label, and cannot validate a multipart body holding binary (it would call it negative).
        if isinstance(case.body, dict | list):
            live = self._live_refs(case.body)
            if live != case.body:
                case.body = live
        if isinstance(case.query, dict):
            live = {k: (self._live_refs(v, k) if k in BODY_REFS else v) for k, v in case.query.items()}
            if live != case.query:
                case.query = live
        if operation_id == "whatIfAccess" and isinstance(case.body, dict):
            self._one_revocation_each(case)
        if operation_id == "createUnitGuest" and isinstance(case.body, dict):
            self._guest_validity(case)
        if isinstance(case.query, dict) and isinstance(case.query.get("pageToken"), str):
            token = _page_token(case, base_url)
            if token:
                case.query = {**case.query, "pageToken": token}
        if operation_id == "updateIntegrationAccount" and isinstance(case.body, dict):
            self._account_credentials(case)
        if operation_id in ("assignFirmwareVersion", "unassignFirmwareVersion"):
            self._scope_targets(case)
        if operation_id == "syncLock":
            self._sign_lock_sync(case)
        elif operation_id == "syncUserDevice":
            self._sign_phone_sync(case)

    def _one_revocation_each(self, case) -> None:
        """What-if changes apply in order: a grant revoked twice is not there the second time
        (a relation between items no schema states). A client proposes each revocation once."""
        changes = case.body.get("changes")
        if not isinstance(changes, list):
            return
        seen, kept = set(), []
        for change in changes:
            key = (change.get("change"), change.get("grantId")) if isinstance(change, dict) else None
            if key and key[0] == "revokeGrant" and isinstance(key[1], str):
                if key in seen:
                    continue
                seen.add(key)
            kept.append(change)
        if kept != changes:
            case.body = {**case.body, "changes": kept}

    def _guest_validity(self, case) -> None:
        """A guest's stay is bounded by the property's setting (at most 30 days here), which no
        schema can state: a drawn well-formed stay becomes this week."""
        now = dt.datetime.now(dt.UTC)
        live = {"validFrom": now, "validUntil": now + dt.timedelta(days=7)}
        body = dict(case.body)
        for name, moment in live.items():
            if isinstance(body.get(name), str) and parse_instant(body[name]):
                body[name] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        case.body = body

    def _account_credentials(self, case) -> None:
        """New credentials are the account's kind's (the world's account is Lockt's): the schema
        lists every kind's shape, the stored account decides which one applies."""
        drawn = case.body.get("credentials")
        strings = isinstance(drawn, dict) and drawn and all(isinstance(v, str) for v in drawn.values())
        if strings and set(drawn) != {"apiuser", "apikey"}:
            value = next(iter(drawn.values()))
            case.body = {**case.body, "credentials": {"apiuser": value, "apikey": value}}

    def _scope_targets(self, case) -> None:
        """`scope` decides which one id goes with it (OpenAPI 3.0 cannot tie query parameters
        together): a client sends that one, so a drawn valid scope gets exactly its target."""
        query = case.query if isinstance(case.query, dict) else None
        needs = {"lock": "lockId", "area": "areaId", "property": "propertyId", "global": None}
        if query is None or not isinstance(query.get("scope"), str) or query["scope"] not in needs:
            return
        kept = {k: v for k, v in query.items() if k not in ("lockId", "areaId", "propertyId")}
        needed = needs[query["scope"]]
        if needed:
            kept[needed] = self.values[needed]
        case.query = kept

    def _sign_lock_sync(self, case) -> None:
        body = case.body
        if not isinstance(body, dict):
            return
        self.sequence += 1
        payload = {k: v for k, v in body.items() if k != "signatures"}
        payload.update(self._live(payload, lockId=self.values["lockId"], syncDate=_now(), syncSequence=self.sequence))
        if isinstance(payload.get("encryptedAccessLogs"), str):  # no logs to deliver (sealing them is §6.5's test)
            payload["encryptedAccessLogs"] = None
            if "accessLogsKid" in payload:
                payload["accessLogsKid"] = None
        if isinstance(payload.get("ack"), dict):  # the lock acknowledges the map it runs, signed (§8)
            payload["ack"] = self._ack()
            payload["currentKeyMapVersion"] = payload["ack"]["payload"]["keyMapVersion"]
        try:
            signatures = canonical.sign_payload(payload, canonical.CONTEXT_LOCK_SYNC_REQUEST, [self.lock_key.private])
        except (canonical.CanonicalError, TypeError, ValueError):
            return  # outside the canonical profile: sent unsigned, refused as it should be
        case.body = {**payload, "signatures": signatures}

    def _ack(self) -> dict:
        from apps.locks.models import SignedKeyMap

        key_map = SignedKeyMap.objects.filter(lock_id=self.values["lockId"]).order_by("-version").first()
        payload = {
            "lockId": self.values["lockId"],
            "keyMapVersion": key_map.version,
            "keyMapDigest": key_map.payload_digest,
            "appliedAt": int(dt.datetime.now(dt.UTC).timestamp()),
        }
        return {
            "payload": payload,
            "signatures": canonical.sign_payload(payload, canonical.CONTEXT_LOCK_ACK, [self.lock_key.private]),
        }

    def _sign_phone_sync(self, case) -> None:
        body = case.body
        if not isinstance(body, dict):
            return
        self.sequence += 1
        payload = {k: v for k, v in body.items() if k != "deviceSignature"}
        payload.update(
            self._live(
                payload,
                userId=self.values["userId"],
                userDeviceId=self.values["userDeviceId"],
                syncDate=_now(),
                syncCounter=self.sequence,
                deviceType=self.phone.device_type,
            )
        )
        try:
            data = canonical.signing_input(payload, canonical.CONTEXT_DEVICE_SYNC_REQUEST)
        except (canonical.CanonicalError, TypeError, ValueError):
            return
        signature = crypto.sign(self.phone.sync.private, data)
        case.body = {**payload, "deviceSignature": crypto.b64url_encode(signature)}

    def _live_refs(self, value, name: str | None = None):
        """A body with the world's objects where it names one with a well-formed id, fresh public
        keys where it carries a well-formed one, and an end of validity that is not yet past."""
        if isinstance(value, dict):
            return _coherent({k: self._live_refs(v, k) for k, v in value.items()})
        if isinstance(value, list):
            return [self._live_refs(v, name) for v in value]
        ref = BODY_REFS.get(name or "")
        if ref and _well_formed(ref, value):
            return self.values[ref]
        if name in PUBLIC_KEYS and isinstance(value, str) and len(value) == 43:
            return crypto.b64url_encode(crypto.generate(PUBLIC_KEYS[name]).public)
        if name == "validUntil" and isinstance(value, str) and _past(value):
            return (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if name == "baseUrl" and isinstance(value, str) and value.startswith("https://"):
            return "https://127.0.0.1:9/fuzz"  # a closed loopback port: a poll never leaves the machine
        if name == "email" and isinstance(value, str) and "@" in value:  # a sign-in email nobody holds yet
            return f"fuzz.{uuid.uuid4().hex[:12]}@example.test"
        return value

    @staticmethod
    def _live(payload: dict, **live) -> dict:
        """The live values for the members the fuzzer drew with the right type (others stay as drawn)."""
        return {k: v for k, v in live.items() if k in payload and type(payload[k]) is type(v)}

    def after(self, operation_id: str, method: str, status: int) -> None:
        if 200 <= status < 300 and (method == "DELETE" or operation_id in DESTRUCTIVE):
            self.dirty = True


# body members that name an object, and which path parameter's object they name
BODY_REFS = {
    **{name: name for name in ("propertyId", "areaId", "userGroupId", "userId", "lockId", "scheduleId", "grantId")},
    "parentAreaId": "parentAreaId",
    "groupId": "markGroupId",  # createLocktMark
    "ownerId": "userId",
    "accessManagerIds": "userId",
    "userIds": "userId",
    "userGroupIds": "userGroupId",
    "areaIds": "areaId",
    "lockIds": "lockId",
    "holderId": "holderId",
}
PUBLIC_KEYS = {
    "lockKey": crypto.ED25519,
    "lockSealKey": crypto.X25519,
    "deviceAccessPublicKey": crypto.ED25519,
    "deviceSyncPublicKey": crypto.ED25519,
    "deviceSyncEncryptionPublicKey": crypto.X25519,
}


def _coherent(item: dict) -> dict:
    """Relations between two members that JSON Schema cannot compare, made to hold as a client
    would send them: a window's stop differs from its start; validity ends after it begins."""
    start, stop = item.get("start"), item.get("stop")
    if isinstance(start, str) and isinstance(stop, str) and _seconds(start) == _seconds(stop) is not None:
        item = {**item, "stop": "24:00"}
    since, until = item.get("validFrom"), item.get("validUntil")
    begins, ends = (parse_instant(v) if isinstance(v, str) else None for v in (since, until))
    if begins and ends and ends <= begins:
        item = {**item, "validFrom": None}
    return item


def _seconds(text: str) -> int | None:
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return None
    return sum(int(p) * f for p, f in zip(parts, (3600, 60, 1), strict=False))


def _past(value: str) -> bool:
    moment = parse_instant(value)
    return moment is not None and moment < dt.datetime.now(dt.UTC)


def _page_token(case, base_url: str) -> str | None:
    """A token the server itself would hand out for the first page of this very list (every row
    after it), so a drawn pageToken reaches the paging code instead of its signature check."""
    from urllib.parse import urlsplit

    import requests
    from django.http import QueryDict
    from django.urls import Resolver404, resolve

    kwargs = case.as_transport_kwargs(base_url=base_url)
    url = requests.Request("GET", kwargs["url"], params=kwargs.get("params")).prepare().url
    parts = urlsplit(url)
    try:
        view = resolve(parts.path).func.view_class
    except (Resolver404, AttributeError):
        return None
    paginator = view.pagination_class()
    query = QueryDict(parts.query)
    if query.get("pageToken") in (None, ""):
        return None
    descending = paginator.ordering.startswith("-")
    if paginator.key_type is int:
        start = 2**62 if descending else -1
    else:
        start = uuid.UUID(int=2**128 - 1 if descending else 0)
    shim = type("Request", (), {"path": parts.path, "query_params": query})()
    return paginator._encode(shim, start)


def _multipart_list(case) -> bool:
    """A multipart body whose member is a list: sent as repeated fields, which for one item is
    exactly the scalar the schema allows, so such a "negative" case cannot be told apart."""
    if not (case.media_type or "").startswith("multipart/") or not isinstance(case.body, dict):
        return False
    return any(isinstance(value, list) for value in case.body.values())


def _about_authorization(case) -> bool:
    """A case that leaves out (or garbles) the credential on purpose is sent as drawn."""
    data = getattr(getattr(case.meta, "phase", None), "data", None) if case.meta else None
    return str(getattr(data, "parameter", "") or "").lower() == "authorization"


def _well_formed(name: str, value) -> bool:
    if not isinstance(value, str):
        return False
    if name == "version":
        return True
    if name == "kind":
        return value in {"users", "groups", "areas", "grants"}
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def fuzz_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """A live server and a world seeded once for the whole module, never reset between operations.

    Fuzz writes only add data (a DELETE or a revocation makes the world build a fresh one beside
    the old), so no operation needs an empty database (tests/fuzzing.py, `module_live_server`).
    Tasks run where they are queued: the import the world lends is validated, and its lock's key
    maps built, before the fuzzer asks for them.
    """
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.firmware.services import firmware_version_upload

    storages = {
        **django_settings.STORAGES,
        "firmware": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path_factory.mktemp("fuzz") / "firmware")},
        },
    }
    with django_db_blocker.unblock(), module_live_server(STORAGES=storages) as server:
        firmware_version_upload(
            version=FIRMWARE_VERSION, upload=SimpleUploadedFile("image.bin", b"\x7fimage" * 64), actor=SYSTEM
        )
        world = FuzzWorld()
        world.build()
        yield server, world


@pytest.fixture
def db():
    """Named `db` so pytest-django creates the test database for these tests (it does for a test
    whose fixtures include `db`) without its per-test transaction: the fuzz's data is shared with
    the live server's connections and stays for the module (`fuzz_server`)."""


@pytest.fixture
def fuzz_world(fuzz_server, django_db_blocker, db):
    with django_db_blocker.unblock():
        yield fuzz_server[1]


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_server):
    server, _ = fuzz_server
    config = fuzz_config(
        server.url,
        # Only the schema's own links (apps/core/api/links.py): an inferred one such as
        # requestEmailChange -> confirmEmailChange needs the code the email carries.
        phases={"stateful": {"enabled": True, "inference": {"algorithms": []}}},
        operations=[
            {
                # A well-formed Range past the end of the image is a 416 by RFC 9110 §15.5.17
                # (documented); the schema cannot know the image's size.
                "include-operation-id": "downloadFirmwareVersion",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "416", "429"]
                    }
                },
            }
        ],
    )
    return schemathesis.openapi.from_url(f"{server.url}/api/v1/schema/?format=json", config=config)


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
def test_every_operation_conforms(case, fuzz_server, fuzz_world):
    operation_id = case.operation.definition.raw["operationId"]
    if _multipart_list(case):
        return  # a one-item list and its item are the same form fields: nothing the server can tell apart
    fuzz_world.prepare(case, operation_id, fuzz_server[0].url)
    secret = fuzz_world.credential(operation_id)
    headers = {"Authorization": f"Bearer {secret}"} if secret and not _about_authorization(case) else None
    response = case.call_and_validate(headers=headers)
    fuzz_world.after(operation_id, case.method.upper(), response.status_code)


@pytest.mark.django_db
def test_the_fuzzed_schema_publishes_every_operation_of_the_permission_map(client):
    """The fuzz reaches an operation only through the published schema: one left out of it (or
    published under another id) would be silently unfuzzed. The operations in /api/v1/schema/
    are exactly those of the permission map."""
    document = client.get("/api/v1/schema/?format=json").json()
    published = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert len(published) >= 98
    assert sorted(set(OPERATIONS) ^ published) == []


def test_the_stateful_phase_follows_the_links(fuzz_server, fuzz_world, fuzz_schema):
    """The schema's links (create -> get/update/delete, apps/core/api/links.py) drive
    schemathesis' state machine: each linked call is sent with the id the create answered, under
    every check. It runs, makes requests, and a linked get finds the object a create made."""
    import hypothesis

    server, world = fuzz_server
    calls = []

    class Machine(fuzz_schema.as_state_machine()):
        def step(self, input):
            self._linked = frozenset(
                name
                for location, name in input.applied_parameters
                if name and getattr(location, "value", location) == "path"
            )
            return super().step(input)

        def before_call(self, case):
            operation_id = case.operation.definition.raw["operationId"]
            # A sync is signed with the world's lock or phone keys, so it names the world's own.
            linked = frozenset() if operation_id in ("syncLock", "syncUserDevice") else self._linked
            world.prepare(case, operation_id, server.url, linked=linked)

        def get_call_kwargs(self, case):
            if _about_authorization(case):
                return {}
            secret = world.credential(case.operation.definition.raw["operationId"])
            return {"headers": {"Authorization": f"Bearer {secret}"}} if secret else {}

        def after_call(self, response, case):
            operation_id = case.operation.definition.raw["operationId"]
            calls.append((operation_id, case.method.upper(), response.status_code, bool(self._linked)))
            if not self._linked:
                world.after(operation_id, case.method.upper(), response.status_code)

    Machine.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.generate],
        )
    )
    linked = [call for call in calls if call[3]]
    assert calls and linked, calls
    assert any(method == "GET" and status == 200 for _, method, status, _ in linked), linked
