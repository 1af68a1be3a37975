"""A reference lock written from docs/PROTOCOL.md alone (§2–§4, §6, §8, §9).

It imports no Keyhouse code: canonical JSON (§3.1, the Keyhouse profile), kids (§2.3), the
signed envelope (§3.4) and sealing (§4) are re-implemented here on `cryptography`, the key
check (§2.4) on libsodium's point check, as lock firmware would. The tests drive the API with
it, so a difference between the server and the document shows up as a failing test.

It generates its own keys, applies signed lock commands (§6.2) and key maps (§6.3), issues
unlock nonces and checks phones' proofs offline (§9.3), seals its access logs (§6.5), signs
its sync requests and acknowledgements (§6.4, §8) and checks the signed answers (§6.6).
"""

import base64
import datetime as dt
import hashlib
import json
import os
import time
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl.bindings import crypto_core_ed25519_is_valid_point

KEY_MAP = "keyhouse/lock-key-map/v1"
COMMAND = "keyhouse/lock-command/v1"
SYNC_REQUEST = "keyhouse/lock-sync-request/v1"
SYNC_RESPONSE = "keyhouse/lock-sync-response/v1"
ACK = "keyhouse/lock-ack/v1"
UNLOCK_PROOF = "keyhouse/unlock-proof/v1"
ACCESS_LOGS = "keyhouse/access-logs/v1"

NONCE_TTL = 30  # §9.3
PROOF_SKEW = 120  # §9.3
MAX_NONCES = 8  # §9.3: a handful outstanding, the oldest dropped first
MAP_SKEW = 300  # §9.2: a map "issued in the future" beyond this is refused


class LockRefused(Exception):
    """The lock rejects a message it received and keeps its state."""


# --- §2, §3: encodings, canonical JSON, kids, envelopes --------------------------------------


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    if "=" in text or "+" in text or "/" in text or len(text) % 4 == 1:
        raise LockRefused("not base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(raw) != text:
        raise LockRefused("non-canonical base64url")
    return raw


def jcs(value) -> str:
    """RFC 8785 for the Keyhouse profile (§3.1): objects, arrays, strings, integers, booleans, null."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(jcs(item) for item in value) + "]"
    if isinstance(value, dict):
        names = sorted(value, key=lambda name: name.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(n, ensure_ascii=False) + ":" + jcs(value[n]) for n in names) + "}"
    raise LockRefused(f"outside the profile: {type(value).__name__}")


def signing_input(payload: dict, context: str) -> bytes:
    return context.encode() + b"\n" + jcs(payload).encode()


def kid_of(algorithm: str, public: bytes) -> str:
    return b64url(hashlib.sha256(algorithm.encode() + b"\x00" + public).digest()[:16])


def raw_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify(payload: dict, signatures: dict, context: str, trusted: dict[str, bytes]) -> None:
    """§3.4: every trusted kid present must verify; at least one must; unknown kids are ignored."""
    if not isinstance(signatures, dict):
        raise LockRefused("signatures must be an object")
    data, verified = signing_input(payload, context), 0
    for kid, signature in signatures.items():
        public = trusted.get(kid)
        if public is None:
            continue
        if not crypto_core_ed25519_is_valid_point(public):  # §2.4: a weak key verifies nothing
            raise LockRefused(f"weak key under trusted kid {kid}")
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(unb64url(signature), data)
        except InvalidSignature:
            raise LockRefused(f"bad signature under trusted kid {kid}") from None
        verified += 1
    if not verified:
        raise LockRefused("no signature by a trusted key")


def sign(private: Ed25519PrivateKey, payload: dict, context: str) -> dict:
    kid = kid_of("Ed25519", raw_public(private))
    return {kid: b64url(private.sign(signing_input(payload, context)))}


def seal(recipient: bytes, plaintext: bytes, *, info: str, aad: bytes) -> bytes:
    """§4: ephemeral X25519, HKDF-SHA256 (salt E‖R), AES-256-GCM; 0x01 ‖ E ‖ nonce ‖ ct ‖ tag."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    if shared == bytes(32):
        raise LockRefused("low-order recipient key")
    e_public = raw_public(ephemeral)
    key = HKDF(hashes.SHA256(), 32, salt=e_public + recipient, info=info.encode()).derive(shared)
    nonce = os.urandom(12)
    return b"\x01" + e_public + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --- the lock ----------------------------------------------------------------------------


@dataclass
class ReferenceLock:
    signing_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    seal_key: X25519PrivateKey = field(default_factory=X25519PrivateKey.generate)
    firmware: str = "1.0.0"
    clock_offset: int = 0  # the lock's clock = real time + offset (tests move it)
    clock_trusted: bool = False  # factory-fresh: no signed server time yet (§9.1 "First clock")
    lock_id: str | None = None
    api_secret: str | None = None
    property_id: str | None = None
    area_id: str | None = None
    trusted: dict = field(default_factory=dict)  # kid → Ed25519 public key (the property's)
    logs_key: dict | None = None  # propertySealKey {kid, publicKey}
    command_sequence: int = 0
    key_map: dict | None = None
    pending_ack: dict | None = None
    sync_sequence: int = 0
    sent: dict = field(default_factory=dict)
    nonces: dict = field(default_factory=dict)  # nonce → issued at (lock clock)
    logs: list = field(default_factory=list)
    log_sequence: int = 0

    # -- identity ----------------------------------------------------------------------
    @property
    def kid(self) -> str:
        return kid_of("Ed25519", raw_public(self.signing_key))

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def provision_body(self, display_name: str = "Front door", **extra) -> dict:
        """§6.1: what the installer sends for this lock (its public keys, never the private ones)."""
        return {
            "displayName": display_name,
            "lockKey": b64url(raw_public(self.signing_key)),
            "lockSealKey": b64url(raw_public(self.seal_key)),
            **extra,
        }

    # -- §6.2 commands -----------------------------------------------------------------
    def apply_command(self, response: dict) -> dict:
        """Apply a SignedLockOutput (provision, install, uninstall, state)."""
        data, signatures = response["data"], response.get("signatures", {})
        command = data["lockCommand"]
        if self.trusted:
            verify(data, signatures, COMMAND, self.trusted)
        elif signatures or command["propertyKeys"]:
            # unclaimed: trust on first use, over the installer's local channel
            verify(data, signatures, COMMAND, {k["kid"]: unb64url(k["publicKey"]) for k in command["propertyKeys"]})
        if self.lock_id is not None and command["lockId"] != self.lock_id:
            raise LockRefused("a command for another lock")
        if command["lockKid"] != self.kid:
            raise LockRefused("a command for another lock key")
        if command["sequence"] < self.command_sequence:
            raise LockRefused("stale command (replayed)")
        if self.clock_trusted:
            now = self.now()
            if not command["issuedAt"] - MAP_SKEW <= now < command["notAfter"]:
                raise LockRefused("command outside its validity")
        else:
            # §9.1 "First clock": no trusted time yet, so no time check; the command's signed
            # issuedAt becomes a provisional clock (still untrusted) until a sync answer sets it.
            self.clock_offset = command["issuedAt"] - int(time.time())
        self.lock_id, self.command_sequence = command["lockId"], command["sequence"]
        secret = (data.get("private") or {}).get("apiKeySecret")
        if secret:
            self.api_secret = secret
        if command["command"] == "uninstall" and command["uninstallMode"] in ("property", "owner"):
            self.trusted, self.logs_key, self.key_map, self.pending_ack = {}, None, None, None
            self.property_id = self.area_id = None
            return command
        self.property_id, self.area_id = command["propertyId"], command["areaId"]
        if command["propertyKeys"]:
            self.trusted = {k["kid"]: unb64url(k["publicKey"]) for k in command["propertyKeys"]}
        self.logs_key = command["propertySealKey"] or self.logs_key
        return command

    # -- §6.3 key maps -----------------------------------------------------------------
    def apply_key_map(self, envelope: dict) -> None:
        if set(envelope) != {"payload", "signatures"}:
            raise LockRefused("malformed key map")
        if not self.trusted:
            raise LockRefused("no property to trust")
        payload = envelope["payload"]
        verify(payload, envelope["signatures"], KEY_MAP, self.trusted)
        if payload["lockId"] != self.lock_id or payload["propertyId"] != self.property_id:
            raise LockRefused("a key map for another lock")
        current = self.key_map["keyMapVersion"] if self.key_map else 0
        if payload["keyMapVersion"] <= current:
            raise LockRefused("key-map version not newer (rollback)")
        now = self.now()
        if payload["issuedAt"] > now + MAP_SKEW or now >= payload["notAfter"]:
            raise LockRefused("key map outside its validity")
        for entry in payload["entries"]:
            if kid_of("Ed25519", unb64url(entry["publicKey"])) != entry["kid"]:
                raise LockRefused("an entry's kid does not match its key")
        self.key_map = payload
        self.trusted = {k["kid"]: unb64url(k["publicKey"]) for k in payload["propertyKeys"]}
        self.logs_key = payload["propertySealKey"]
        ack = {
            "lockId": self.lock_id,
            "keyMapVersion": payload["keyMapVersion"],
            "keyMapDigest": b64url(hashlib.sha256(jcs(payload).encode()).digest()),
            "appliedAt": now,
        }
        self.pending_ack = {"payload": ack, "signatures": sign(self.signing_key, ack, ACK)}

    # -- §9.3 unlock -------------------------------------------------------------------
    def challenge(self) -> dict:
        nonce = b64url(os.urandom(16))
        while len(self.nonces) >= MAX_NONCES:
            self.nonces.pop(next(iter(self.nonces)))
        self.nonces[nonce] = self.now()
        return {"lockId": self.lock_id, "nonce": nonce}

    def _log(self, result: str, reason: str, kid: str | None = None, **extra) -> tuple[bool, str]:
        self.log_sequence += 1
        self.logs.append(
            {
                "sequence": self.log_sequence,
                "accessDate": self.now(),
                "result": result,
                "reason": reason,
                "kid": kid,
                "keyMapVersion": self.key_map["keyMapVersion"] if self.key_map else 0,
                **extra,
            }
        )
        return result == "granted", reason

    @staticmethod
    def _inside(now: int, start, end) -> bool:
        return (start is None or start <= now) and (end is None or now < end)

    def unlock(self, proof) -> tuple[bool, str]:
        """Check a phone's answer to a challenge, offline; log and return (opened, reason)."""
        now = self.now()
        if self.key_map is None:
            return self._log("denied", "no-key-map")
        if now >= self.key_map["notAfter"]:
            return self._log("denied", "key-map-expired")
        if (
            not isinstance(proof, dict)
            or set(proof) != {"payload", "signatures"}
            or not isinstance(proof["payload"], dict)
            or set(proof["payload"]) != {"lockId", "nonce", "at"}
            or not isinstance(proof["signatures"], dict)
        ):
            return self._log("denied", "malformed")
        payload = proof["payload"]
        if payload["lockId"] != self.lock_id:
            return self._log("denied", "wrong-lock")
        issued = self.nonces.pop(payload["nonce"], None)  # single use, whatever follows
        if issued is None or now - issued > NONCE_TTL:
            return self._log("denied", "bad-nonce")
        if not isinstance(payload["at"], int) or abs(payload["at"] - now) > PROOF_SKEW:
            return self._log("denied", "clock-skew")
        kids = list(proof["signatures"])
        denied = set(self.key_map["deniedKids"])
        for kid in kids:
            if kid in denied:
                return self._log("denied", "denied-key", kid)
        entries = [e for e in self.key_map["entries"] if e["kid"] in kids]
        if not entries:
            return self._log("denied", "unknown-key", kids[0] if kids else None)
        kid = entries[0]["kid"]
        try:
            verify(payload, {kid: proof["signatures"][kid]}, UNLOCK_PROOF, {kid: unb64url(entries[0]["publicKey"])})
        except LockRefused:
            signature = proof["signatures"][kid]
            return self._log(
                "denied", "bad-signature", kid, deviceSignatureFailure=True, deviceSignature=signature[:100]
            )
        reasons = []
        for entry in (e for e in entries if e["kid"] == kid):
            if entry["validFrom"] is not None and now < entry["validFrom"]:
                reasons.append("not-valid-yet")
            elif entry["validUntil"] is not None and now >= entry["validUntil"]:
                reasons.append("expired")
            elif entry["schedule"] is not None and not any(
                a <= now < b for a, b in self.key_map["schedules"].get(entry["schedule"], [])
            ):
                reasons.append("outside-schedule")
            else:
                return self._log("granted", "unlock", kid, userGroupId=entry["userGroupId"])
        return self._log("denied", reasons[0], kid)

    def free_passage(self) -> bool:
        """§9.3: is the door in free passage right now (an `open` line holds)?"""
        if self.key_map is None or self.now() >= self.key_map["notAfter"]:
            return False
        now = self.now()
        for line in self.key_map["open"]:
            if not self._inside(now, line["validFrom"], line["validUntil"]):
                continue
            if line["schedule"] is None or any(
                a <= now < b for a, b in self.key_map["schedules"].get(line["schedule"], [])
            ):
                return True
        return False

    # -- §6.4 sync request ---------------------------------------------------------------
    def sync_body(self, *, logs: list | None = None, **overrides) -> dict:
        """The next signed sync request. The sequence is taken before it is sent."""
        self.sync_sequence += 1
        logs = self.logs if logs is None else logs
        sealed, logs_kid = None, None
        if logs and self.logs_key:
            plaintext = jcs({"logs": logs}).encode()
            aad = jcs({"lockId": self.lock_id, "syncSequence": self.sync_sequence}).encode()
            sealed = b64url(seal(unb64url(self.logs_key["publicKey"]), plaintext, info=ACCESS_LOGS, aad=aad))
            logs_kid = self.logs_key["kid"]
        payload = {
            "lockId": self.lock_id,
            "syncSequence": self.sync_sequence,
            "syncDate": iso(self.now()),
            "currentKeyMapVersion": self.key_map["keyMapVersion"] if self.key_map else 0,
            "currentFirmwareVersion": self.firmware,
            "encryptedAccessLogs": sealed,
            "accessLogsKid": logs_kid,
            "ack": self.pending_ack,
            "nonce": b64url(os.urandom(16)),
        }
        payload.update(overrides)
        self.sent = payload
        return {**payload, "signatures": sign(self.signing_key, payload, SYNC_REQUEST)}

    # -- §6.6 the answer -----------------------------------------------------------------
    def receive_sync(self, body: dict) -> dict:
        """Check the signed answer, set the clock, drop delivered logs, apply a newer key map."""
        data = body["data"]
        if body["success"] is False:
            signed = (data or {}).get("serverTime")
            if not signed:
                raise LockRefused(body["error"])
            data, signatures = signed["payload"], signed["signatures"]
        else:
            signatures = body["signatures"]
        verify(data, signatures, SYNC_RESPONSE, self.trusted)
        if data["lockId"] != self.lock_id or data["nonce"] != self.sent.get("nonce"):
            raise LockRefused("not the answer to the request just sent")
        if data["syncSequence"] != self.sent.get("syncSequence"):
            raise LockRefused("answer to another sync")
        self.clock_offset += data["serverTime"] - self.now()
        self.clock_trusted = True
        if not data["accepted"]:
            return data
        confirmed = data["accessLogs"]["highestSequence"]
        missing = data["accessLogs"]["missing"]
        self.logs = [
            log
            for log in self.logs
            if log["sequence"] > confirmed or any(a <= log["sequence"] <= b for a, b in missing)
        ]
        if self.pending_ack and data["acknowledgedKeyMapVersion"] >= self.pending_ack["payload"]["keyMapVersion"]:
            self.pending_ack = None
        if body.get("keyMap") is not None:
            digest = b64url(hashlib.sha256(jcs(body["keyMap"]["payload"]).encode()).digest())
            if digest != data["keyMapDigest"]:
                raise LockRefused("key map does not match the signed digest")
            self.apply_key_map(body["keyMap"])
        return data
