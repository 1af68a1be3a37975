"""Manifest signing (apps/firmware/signing.py, pure) and the docs/FIRMWARE.md test vector."""

import base64
import hashlib
import json
import re
import threading
from pathlib import Path

import pytest

from apps.firmware import signing

DOC = Path(__file__).resolve().parents[2] / "docs" / "FIRMWARE.md"


def _vector() -> dict:
    text = DOC.read_text()
    block = re.search(r"### Test vector.*?```json\n(.*?)```", text, flags=re.DOTALL)
    assert block, "docs/FIRMWARE.md lost its test vector"
    return json.loads(block.group(1))


def test_documented_vector_matches_the_code():
    v = _vector()
    private = base64.b64decode(v["privateKey"])
    image = v["image"].encode()
    assert hashlib.sha256(image).hexdigest() == v["sha256"]
    assert len(image) == v["size"]
    manifest = signing.manifest_bytes(version=v["version"], sha256=v["sha256"], size=v["size"])
    assert manifest == v["manifest"].encode()
    assert signing.b64encode(signing.public_key(private)) == v["publicKey"]
    assert signing.key_id_for(signing.public_key(private)) == v["keyId"]
    key = signing.SigningKey(key_id=v["keyId"], private=private)
    assert signing.manifest_sign(key, version=v["version"], sha256=v["sha256"], size=v["size"]) == v["signature"]
    assert signing.verify(base64.b64decode(v["publicKey"]), manifest, base64.b64decode(v["signature"]))


def test_documented_vector_verifies_with_cryptography_alone():
    """What a lock does: only the public key, the bytes it built and the signature."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    v = _vector()
    canonical = json.dumps(
        {"version": v["version"], "size": v["size"], "sha256": v["sha256"]}, sort_keys=True, separators=(",", ":")
    ).encode()
    Ed25519PublicKey.from_public_bytes(base64.b64decode(v["publicKey"])).verify(
        base64.b64decode(v["signature"]), canonical
    )


def test_a_changed_manifest_does_not_verify():
    v = _vector()
    public, signature = base64.b64decode(v["publicKey"]), base64.b64decode(v["signature"])
    for changed in ({"size": v["size"] + 1}, {"version": "1.2.4"}, {"sha256": "0" * 64}):
        fields = {"version": v["version"], "sha256": v["sha256"], "size": v["size"], **changed}
        assert not signing.verify(public, signing.manifest_bytes(**fields), signature)
    assert not signing.verify(public, v["manifest"].encode(), b"\0" * 64)


@pytest.mark.parametrize(
    "fields",
    [
        {"sha256": "A" * 64, "size": 1},
        {"sha256": "a" * 63, "size": 1},
        {"sha256": "g" * 64, "size": 1},
        {"sha256": "a" * 64, "size": -1},
        {"sha256": "a" * 64, "size": True},
    ],
)
def test_manifest_bytes_refuses_non_canonical_input(fields):
    with pytest.raises(ValueError):
        signing.manifest_bytes(version="1", **fields)


@pytest.mark.parametrize(
    "text", ["", "not base64!", base64.b64encode(b"x" * 31).decode(), base64.b64encode(b"x" * 33).decode()]
)
def test_parse_private_key_wants_base64_of_32_bytes(text):
    with pytest.raises(ValueError):
        signing.parse_private_key(text)


def test_dev_key_is_generated_once_private_and_shared_by_racing_processes(tmp_path):
    results = []
    threads = [threading.Thread(target=lambda: results.append(signing.dev_key_text(tmp_path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert len(signing.parse_private_key(results[0])) == 32
    path = tmp_path / signing.DEV_KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert signing.dev_key_text(tmp_path) == results[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [signing.DEV_KEY_FILE]
