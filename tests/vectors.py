"""What the test-vector builders share (tests/keys, tests/locks and tests/devices make_vectors.py):
keys derived from labels, the JSON rendering the stored files are compared against byte for
byte, and writing them.

Every secret is SHA-256 of a label, so the files are reproducible. Each builder keeps the key
fields its files have always had (`key_vector(..., fields)`), in their order.
"""

import hashlib
import json
from pathlib import Path

from apps.keys import crypto


def secret(label: str) -> bytes:
    return hashlib.sha256(f"keyhouse test vector: {label}".encode()).digest()


def key_vector(algorithm: str, label: str, fields: tuple[str, ...]) -> dict:
    """The key pair whose private key is `secret(label)`, as the named fields, in that order:
    label, privateKeyHex, publicKeyHex, publicKey (base64url), kid."""
    private = secret(label)
    public = crypto.public_key(algorithm, private)
    values = {
        "label": label,
        "privateKeyHex": private.hex(),
        "publicKeyHex": public.hex(),
        "publicKey": crypto.b64url_encode(public),
        "kid": crypto.key_id(algorithm, public),
    }
    return {name: values[name] for name in fields}


def render(vector: dict) -> str:
    return json.dumps(vector, indent=2, ensure_ascii=False) + "\n"


def text(builder) -> str:
    return render(builder())


def write(folder: Path, builders: dict) -> None:
    """Rewrite every file of `builders` ({file name: builder}) in `folder`."""
    folder.mkdir(exist_ok=True)
    for name, builder in builders.items():
        (folder / name).write_text(text(builder), encoding="utf-8")
        print("wrote", folder / name)
