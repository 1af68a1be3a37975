"""Spec Key: key material of properties, locks and user devices (docs/PROTOCOL.md §1, §5)."""

import builtins

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q

from apps.core.choices import EntityTypeState
from apps.core.models import Entity, EntityQuerySet
from apps.keys import crypto
from apps.keys.choices import MODE_ALGORITHM, PURPOSE_OWNER_TYPES, KeyAlgorithm, KeyKeyMode, KeyOwnerType, KeyPurpose


class KeyVersion(models.Model):
    """One row (id 1): a number every write to `Key` raises in its own transaction, so a
    process may keep keys it has read while the number is unchanged (keys.kept: syncLock's
    lock and property keys). Raised by the model itself (`Key.save`/`delete`, `KeyQuerySet`'s
    bulk writes), not by the services, so no write path can forget it: a revoked or rotated
    key is never used from a copy after its change commits."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    value = models.BigIntegerField(default=0)


def _keys_changed() -> None:
    """Raise KeyVersion in the caller's transaction and forget this process's copies."""
    from apps.keys.kept import keys_kept  # local: kept is a cache over this module's rows

    if not KeyVersion.objects.filter(pk=1).update(value=F("value") + 1):
        KeyVersion.objects.create(pk=1, value=1)  # the row went (a test flush): start again
    keys_kept.changed()


class KeyQuerySet(EntityQuerySet):
    """Bulk writes of keys raise KeyVersion in the same transaction (see KeyVersion)."""

    def _raising(self, write, *args, **kwargs):
        """`write(*args, **kwargs)` and, when it wrote any row, the counter: one transaction."""
        with transaction.atomic(using=self.db):
            result = write(*args, **kwargs)
            if result[0] if isinstance(result, tuple) else result:  # delete's (count, by model)
                _keys_changed()
        return result

    def update(self, **kwargs):
        return self._raising(super().update, **kwargs)

    def delete(self):
        return self._raising(super().delete)

    # as QuerySet's own: `Key.objects.delete()` must not exist, templates must not call them
    delete.alters_data = delete.queryset_only = True
    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        return self._raising(super().bulk_create, objs, *args, **kwargs)

    def bulk_update(self, objs, *args, **kwargs):
        return self._raising(super().bulk_update, objs, *args, **kwargs)


class Key(Entity):
    """Spec Key: one key pair of one owner, for one purpose and mode.

    - `id` is the spec's `keyId` (a UUID; Event.key_id). `kid` is the *protocol* key id, derived
      from the public key (crypto.key_id), which keys every `signatures` map.
    - Server-held keys (Keyhouse generated them) carry `wrapped_private_key` + `kek_id`;
      party-held keys (a lock or phone generated them and registered the public half) have
      neither, and Keyhouse can never sign or open anything with them.
    - Spec shape: `offlineAsymmetricKey` = {algorithm, publicKey}; `onlineKey` and
      `offlineSymmetricKey` are always null (Keyhouse issues no shared secrets to locks).
    - Rotation makes a new row (`replaces` → the old one) and sets the old row inactive with
      `rotated_at`; rows are never re-keyed in place, so a kid always means one public key.

    Writes go through apps.keys.services only. Neither repr nor str shows key bytes.
    """

    kid = models.CharField(max_length=22, unique=True, editable=False, help_text="Protocol key id (base64url).")
    property = models.ForeignKey(
        "properties.Property", null=True, blank=True, on_delete=models.PROTECT, related_name="keys"
    )
    owner_type = models.CharField(max_length=16, choices=KeyOwnerType.choices)
    owner_id = models.UUIDField()
    purpose = models.CharField(max_length=32, choices=KeyPurpose.choices)
    key_mode = models.CharField(max_length=16, choices=KeyKeyMode.choices)
    algorithm = models.CharField(max_length=16, choices=KeyAlgorithm.choices)
    public_key = models.BinaryField(max_length=crypto.KEY_BYTES)
    wrapped_private_key = models.BinaryField(null=True, blank=True, editable=False)
    kek_id = models.PositiveIntegerField(null=True, blank=True, help_text="KEK that wrapped the private key.")
    rotated_at = models.DateTimeField(null=True, blank=True)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")

    class Meta(Entity.Meta):
        indexes = [
            models.Index(fields=["owner_type", "owner_id"], name="key_owner_idx"),
            # rotate_kek walks the wrapped keys not yet under the current KEK.
            models.Index(fields=["kek_id", "id"], name="key_kek_idx", condition=Q(kek_id__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(wrapped_private_key__isnull=True, kek_id__isnull=True)
                | Q(wrapped_private_key__isnull=False, kek_id__isnull=False),
                name="key_wrapped_has_kek",
            ),
            models.CheckConstraint(
                condition=Q(key_mode=KeyKeyMode.SIGN_VERIFY, algorithm=KeyAlgorithm.ED25519)
                | Q(key_mode=KeyKeyMode.ENCRYPT_DECRYPT, algorithm=KeyAlgorithm.X25519),
                name="key_mode_matches_algorithm",
            ),
            # One active key per owner, purpose and mode: "the property's signing key" is one row.
            models.UniqueConstraint(
                fields=["owner_type", "owner_id", "purpose", "key_mode"],
                condition=Q(type_state=EntityTypeState.ACTIVE),
                name="key_one_active_per_owner_purpose_mode",
            ),
        ]

    objects = KeyQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.purpose} {self.algorithm} {self.kid}"

    def save(self, *args, **kwargs):
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            _keys_changed()

    def delete(self, *args, **kwargs):
        with transaction.atomic(using=kwargs.get("using")):
            result = super().delete(*args, **kwargs)
            _keys_changed()
        return result

    @builtins.property  # `property` is the foreign key here
    def server_held(self) -> bool:
        """True when Keyhouse holds the (wrapped) private key."""
        return self.wrapped_private_key is not None

    @builtins.property  # `property` is the foreign key here
    def public_key_bytes(self) -> bytes:
        """The raw public key as bytes (PostgreSQL hands BinaryField back as memoryview)."""
        return bytes(self.public_key)

    def clean(self) -> None:
        errors = {}
        if self.key_mode in MODE_ALGORITHM and self.algorithm != MODE_ALGORITHM[self.key_mode]:
            errors["algorithm"] = f"{self.key_mode} keys use {MODE_ALGORITHM[self.key_mode]}."
        if self.purpose in PURPOSE_OWNER_TYPES and self.owner_type not in PURPOSE_OWNER_TYPES[self.purpose]:
            allowed = ", ".join(sorted(PURPOSE_OWNER_TYPES[self.purpose]))
            errors["owner_type"] = f"A {self.purpose} belongs to: {allowed}."
        if self.algorithm in crypto.ALGORITHMS and self.public_key is not None:
            try:
                crypto.check_public_key(self.algorithm, self.public_key_bytes)
                if self.kid and self.kid != crypto.key_id(self.algorithm, self.public_key_bytes):
                    errors["kid"] = "The kid does not match the public key."
            except crypto.KeyFormatError as exc:
                errors["public_key"] = str(exc)
        if (self.wrapped_private_key is None) != (self.kek_id is None):
            errors["kek_id"] = "A wrapped private key records its kekId, and only then."
        if errors:
            raise ValidationError(errors)
