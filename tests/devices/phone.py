"""A reference phone written from docs/PROTOCOL.md §7 alone (apps.keys crypto/canonical only).

It keeps its own private keys, signs its sync input, opens and checks the sealed access map,
and answers a lock's unlock challenge. Tests drive the API with it as a real app would.
"""

from dataclasses import dataclass

from apps.keys import crypto


@dataclass
class Phone:
    access: crypto.KeyPair  # deviceAccessKey, Ed25519
    sync: crypto.KeyPair  # deviceSyncKey, Ed25519
    seal: crypto.KeyPair  # deviceSyncKey, X25519
    user_id: str = ""
    user_device_id: str = ""

    @classmethod
    def generate(cls) -> "Phone":
        return cls(
            access=crypto.generate(crypto.ED25519),
            sync=crypto.generate(crypto.ED25519),
            seal=crypto.generate(crypto.X25519),
        )
