"""Fixtures for lock tests: a property with a Tower (Residents on its access list), a lock
provisioned and installed through the API with a reference lock, and helpers that settle the
workers (events, then key-map builds) the way Celery would after each commit."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from apps.access import services as access_services
from apps.core.principal import Grant
from apps.devices import services as device_services
from apps.keys import crypto
from apps.locks import services as lock_services
from tests.factories import directory as d
from tests.factories.access import process_events
from tests.factories.accounts import key_client
from tests.locks.reference_lock import ReferenceLock


def settle() -> None:
    """Run what the workers run after commits: pending events, then pending key-map builds,
    until nothing is left (a build appends an event; handlers ask for builds)."""
    for _ in range(20):
        process_events()
        pending = lock_services.key_maps_pending()
        if not pending:
            return
        for property_id in pending:
            lock_services.key_maps_build(property_id=property_id)
    raise AssertionError("workers did not settle")


def ok_signed(response) -> dict:
    """The `data` of a successful signed answer (SignedLockOutput / SignedLockSyncOutput)."""
    assert response.status_code == 200, (response.status_code, response.content[:500])
    body = response.json()
    assert {"success", "error", "data", "signatures"} <= set(body), body
    assert body["success"] is True and body["error"] is None, body
    return body["data"]


def lock_client(lock: ReferenceLock) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {lock.api_secret}")
    return client


@dataclass
class Phone:
    """Just enough of a phone for the lock side: its deviceAccessKey answers challenges (§9.3)."""

    access: crypto.KeyPair
    device: object = None

    @classmethod
    def provision(cls, user) -> "Phone":
        access = crypto.generate(crypto.ED25519)
        device = device_services.user_device_provision(
            user=user,
            device_type="iOS",
            make_model="iPhone 15",
            display_name="phone",
            access_public_key=access.public,
            sync_public_key=crypto.generate(crypto.ED25519).public,
            seal_public_key=crypto.generate(crypto.X25519).public,
            actor="system",
        )
        return cls(access=access, device=device)

    def proof(self, challenge: dict, *, at: int) -> dict:
        from apps.keys import canonical

        payload = {"at": at, "lockId": challenge["lockId"], "nonce": challenge["nonce"]}
        return canonical.sign_message(payload, canonical.CONTEXT_UNLOCK_PROOF, [self.access.private])


@dataclass
class World:
    prop: object
    tower: object
    unit: object
    residents: object
    alice: object
    manager: APIClient
    lock: ReferenceLock
    lock_api: APIClient

    def sync(self, **overrides):
        """One sync of the reference lock through the API; returns the response."""
        response = self.lock_api.put(
            f"/api/v1/locks/{self.lock.lock_id}/sync", self.lock.sync_body(**overrides), format="json"
        )
        if response.status_code == 200 or response.json().get("data", {}).get("serverTime"):
            self.lock.receive_sync(response.json())
        return response


@pytest.fixture
def world(db) -> World:
    prop = d.property_create(time_zone="Europe/London")
    residents = d.property_group(prop)
    tower = d.area_create(prop, display_name="Tower", area_type="resident")
    from apps.core.actors import SYSTEM

    access_services.area_update(
        area=tower, access_list=[{"accessType": "group", "userGroupId": str(residents.pk)}], actor=SYSTEM
    )
    unit = d.area_create(prop, display_name="Lobby", area_type="common", parent=tower)
    alice = d.user_create(display_name="Alice")
    manager = key_client(Grant("owner", property_id=prop.pk), Grant("provision-lock", property_id=prop.pk))
    lock = ReferenceLock()
    response = manager.post("/api/v1/locks", lock.provision_body(propertyId=str(prop.pk)), format="json")
    assert response.status_code == 200, response.content
    lock.apply_command(response.json())
    response = manager.put(f"/api/v1/properties/{prop.pk}/areas/{unit.pk}/install/{lock.lock_id}", {}, format="json")
    assert response.status_code == 200, response.content
    lock.apply_command(response.json())
    settle()
    return World(
        prop=prop,
        tower=tower,
        unit=unit,
        residents=residents,
        alice=alice,
        manager=manager,
        lock=lock,
        lock_api=lock_client(lock),
    )
