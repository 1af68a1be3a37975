"""How party-held keys travel in the API: a public key in (validated to bytes), the spec Key out."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.keys import crypto

# 32 bytes as canonical unpadded base64url: 43 characters, the last one carrying 2 zero bits.
PUBLIC_KEY_PATTERN = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": PUBLIC_KEY_PATTERN,
        "description": "A raw 32-byte public key, base64url without padding (43 characters); it must "
        "also be a usable key of its algorithm (PROTOCOL.md §2.4: not small-order, canonical).",
    }
)
class PublicKeyField(serializers.CharField):
    """A raw 32-byte public key as unpadded base64url (PROTOCOL.md §2.1); validates to bytes."""

    def __init__(self, algorithm: str, **kwargs):
        self.algorithm = algorithm
        kwargs.setdefault("help_text", f"{algorithm} public key, 32 bytes, base64url without padding.")
        super().__init__(max_length=64, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return crypto.check_public_key(self.algorithm, crypto.b64url_decode(text))
        except ValueError as exc:  # KeyFormatError is a ValueError too
            reason = str(exc).rstrip(".")
            raise serializers.ValidationError(f"Not a usable {self.algorithm} public key: {reason}.") from None


class PartyKeySerializer(serializers.Serializer):
    """Spec Key, as a lock's or a phone's key is shown: the party holds the private half, so only
    the public one exists here."""

    keyId = serializers.UUIDField(source="id")
    kid = serializers.CharField(help_text="Protocol key id (PROTOCOL.md §2.3).")
    purpose = serializers.CharField()
    keyMode = serializers.CharField(source="key_mode")
    typeState = serializers.CharField(source="type_state")
    offlineAsymmetricKey = serializers.SerializerMethodField()

    def get_offlineAsymmetricKey(self, key) -> dict:
        return {"algorithm": key.algorithm, "publicKey": crypto.b64url_encode(key.public_key_bytes)}
