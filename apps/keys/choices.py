from django.db import models

from apps.keys import crypto


class KeyKeyMode(models.TextChoices):
    """Spec Key.keyMode: what the key does. SIGN_VERIFY keys are Ed25519, ENCRYPT_DECRYPT keys X25519."""

    SIGN_VERIFY = "SIGN_VERIFY"
    ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"


class KeyAlgorithm(models.TextChoices):
    ED25519 = crypto.ED25519
    X25519 = crypto.X25519


class KeyOwnerType(models.TextChoices):
    """Spec Key.ownerType: the kind of entity `ownerId` names."""

    PROPERTY = "property"
    LOCK = "lock"
    USER_DEVICE = "userDevice"
    USER = "user"


class KeyPurpose(models.TextChoices):
    """The key kinds of the protocol (docs/PROTOCOL.md §1, "Who holds which key")."""

    PROPERTY_KEY = "propertyKey"
    LOCK_KEY = "lockKey"
    DEVICE_SYNC_KEY = "deviceSyncKey"
    DEVICE_ACCESS_KEY = "deviceAccessKey"


# Which algorithm each mode uses, and which owners each purpose may have.
MODE_ALGORITHM = {KeyKeyMode.SIGN_VERIFY: KeyAlgorithm.ED25519, KeyKeyMode.ENCRYPT_DECRYPT: KeyAlgorithm.X25519}
PURPOSE_OWNER_TYPES = {
    KeyPurpose.PROPERTY_KEY: {KeyOwnerType.PROPERTY},
    KeyPurpose.LOCK_KEY: {KeyOwnerType.LOCK},
    KeyPurpose.DEVICE_SYNC_KEY: {KeyOwnerType.USER_DEVICE},
    KeyPurpose.DEVICE_ACCESS_KEY: {KeyOwnerType.USER_DEVICE, KeyOwnerType.USER},
}
