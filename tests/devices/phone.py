"""A reference phone written from docs/PROTOCOL.md §7 alone: only `cryptography`-level
building blocks (apps.keys.crypto, apps.keys.canonical), no Keyhouse server code.

It keeps its own private keys, signs its sync input (§7.3), checks the answer and opens the
sealed access map (§7.4–§7.5), and answers a lock's unlock challenge (§7.6). Tests drive the
API with it as a real app would.
"""

import datetime as dt
from dataclasses import dataclass, field

from apps.keys import canonical, crypto

SYNC_REQUEST = "keyhouse/device-sync-request/v1"
SYNC_RESPONSE = "keyhouse/device-sync-response/v1"
UNLOCK_PROOF = "keyhouse/unlock-proof/v1"
SEAL_INFO = "keyhouse/user-access-map/v1"
MAP_FORMAT = "keyhouse-user-access-map/1"


class PhoneRefused(Exception):
    """The phone rejects what it received (§7.4): it keeps the map it had."""


def timestamp(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@dataclass
class Phone:
    access: crypto.KeyPair  # deviceAccessKey, Ed25519
    sync: crypto.KeyPair  # deviceSyncKey, Ed25519
    seal: crypto.KeyPair  # deviceSyncKey, X25519
    user_id: str = ""
    user_device_id: str = ""
    device_type: str = "iOS"
    make_model: str = "iPhone 15"
    os_version: str = "18.1"
    app_version: str = "2.3.0"
    counter: int = 0
    access_map: dict | None = None  # the opened map document it holds
    not_after: str = ""  # validity of the held map (renewed by each sync, §7.4 step 4)
    last_sent: dict = field(default_factory=dict)

    @classmethod
    def generate(cls) -> "Phone":
        return cls(
            access=crypto.generate(crypto.ED25519),
            sync=crypto.generate(crypto.ED25519),
            seal=crypto.generate(crypto.X25519),
        )

    # -- §7.2 provisioning ---------------------------------------------------------------
    def provision_body(self, display_name: str = "My phone") -> dict:
        return {
            "deviceType": self.device_type,
            "makeModel": self.make_model,
            "displayName": display_name,
            "deviceAccessPublicKey": crypto.b64url_encode(self.access.public),
            "deviceSyncPublicKey": crypto.b64url_encode(self.sync.public),
            "deviceSyncEncryptionPublicKey": crypto.b64url_encode(self.seal.public),
        }

    @property
    def map_version(self) -> str:
        return self.access_map["userAccessMapVersion"] if self.access_map else ""

    # -- §7.3 sync request ---------------------------------------------------------------
    def sync_body(self, *, now: dt.datetime | None = None, counter: int | None = None, **overrides) -> dict:
        """The next signed sync body. The counter is taken (persisted) before it is sent."""
        if counter is None:
            self.counter += 1
            counter = self.counter
        payload = {
            "userId": self.user_id,
            "userDeviceId": self.user_device_id,
            "syncDate": timestamp(now or dt.datetime.now(dt.UTC)),
            "syncCounter": counter,
            "deviceType": self.device_type,
            "makeModel": self.make_model,
            "currentOsVersion": self.os_version,
            "currentAppVersion": self.app_version,
            "currentUserAccessMapVersion": self.map_version,
            **overrides,
        }
        signature = crypto.sign(self.sync.private, canonical.signing_input(payload, SYNC_REQUEST))
        body = {**payload, "deviceSignature": crypto.b64url_encode(signature)}
        self.last_sent = body
        return body

    # -- §7.4 the answer -----------------------------------------------------------------
    def receive(self, envelope: dict) -> dict | None:
        """Process a sync response envelope; returns the newly opened map, or None (renewal)."""
        data, signatures = envelope["data"], envelope.get("signatures", {})
        if data["userId"] != self.user_id or data["userDeviceId"] != self.user_device_id:
            raise PhoneRefused("an answer for another device")
        if data["syncCounter"] != self.last_sent.get("syncCounter"):
            raise PhoneRefused("not the answer to the request just sent")
        opened = None
        blobs = data["encryptedUserAccessMapEntries"]
        if blobs is not None:
            if len(blobs) != 1:
                raise PhoneRefused("expected exactly one sealed map")
            opened = self.open_map(blobs[0], version=data["userAccessMapVersion"])
            if self.access_map and int(opened["userAccessMapVersion"]) <= int(self.map_version):
                raise PhoneRefused("map version rollback")
        held = opened or self.access_map
        trusted = [
            crypto.b64url_decode(k["publicKey"]) for p in (held or {}).get("properties", []) for k in p["signingKeys"]
        ]
        if trusted:
            try:
                canonical.verify_signatures(data, signatures, SYNC_RESPONSE, trusted)
            except crypto.InvalidSignature as exc:
                raise PhoneRefused(f"response signature: {exc}") from None
        if opened is None:
            if data["userAccessMapVersion"] == self.map_version:
                self.not_after = data["notAfter"]
            return None
        self.access_map, self.not_after = opened, max(opened["notAfter"], data["notAfter"])
        return opened

    def open_map(self, blob: str, *, version: str) -> dict:
        aad = canonical.canonical({"userAccessMapVersion": version, "userDeviceId": self.user_device_id})
        try:
            plaintext = crypto.unseal(self.seal.private, crypto.b64url_decode(blob), info=SEAL_INFO, aad=aad)
        except (crypto.SealError, ValueError) as exc:
            raise PhoneRefused(f"sealed map does not open: {exc}") from None
        document = canonical.loads(plaintext)
        if (
            document.get("format") != MAP_FORMAT
            or document.get("userDeviceId") != self.user_device_id
            or document.get("userId") != self.user_id
            or document.get("userAccessMapVersion") != version
        ):
            raise PhoneRefused("sealed map is not this device's map of this version")
        return document

    def lock_ids(self) -> set[str]:
        return {entry["lockId"] for entry in (self.access_map or {}).get("entries", [])}

    # -- §7.6 unlock ---------------------------------------------------------------------
    def unlock_proof(self, challenge: dict, *, at: int | None = None) -> dict:
        """The signed answer to a lock's challenge {"lockId", "nonce"}."""
        if challenge["lockId"] not in self.lock_ids():
            raise PhoneRefused("this phone holds no access to that lock")
        payload = {
            "at": int(dt.datetime.now(dt.UTC).timestamp()) if at is None else at,
            "lockId": challenge["lockId"],
            "nonce": challenge["nonce"],
        }
        return canonical.sign_message(payload, UNLOCK_PROOF, [self.access.private])
