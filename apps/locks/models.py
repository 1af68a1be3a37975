"""Spec Lock and what the lock protocol stores (docs/PROTOCOL.md §6, §8, §9).

- `Lock`: a door lock, provisioned into a property and installed into one area, with its sync
  state (what it reported, what it acknowledged, its replay counters).
- `LockCredential`: the lock's API secret (spec `private.apiKey` is its id), stored as a
  keyed hash like an API key.
- `SignedKeyMap`: one signed key-map version of one lock, built and signed once by a worker.
- `KeyMapRequest` / `KeyMapBuild`: "something that key maps depend on changed" (one per event
  and property) and the worker run that answered it; provable revocation reads them.
- `LockAck`: the lock's signed "key-map version N applied", kept as proof.
- `LockAccessLog` / `LockAccessLogGap`: what the lock reported, with per-lock sequence numbers,
  and the ranges still missing.
"""

import builtins

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q

from apps.core.ids import uuid7
from apps.core.models import Entity
from apps.locks.choices import LockAccessLogResult


class Lock(Entity):
    """Spec Lock (+ LockReadOnly_private): a door lock and its protocol state.

    Key-map versions: `signed_key_map_version` is the newest version signed for the lock (not
    apps.access LockAccessVersion.version, which counts changes of its derived lines only),
    `reported_key_map_version` what the lock said it runs at its last sync (spec
    `currentKeyMapVersion`), `applied_key_map_version` the newest version it acknowledged with
    a signed ack (PROTOCOL.md §8). Writes go through apps.locks.services only.
    """

    external_refs = GenericRelation("core.ExternalRef", related_query_name="lock")

    display_name = models.CharField(max_length=200)
    property = models.ForeignKey(
        "properties.Property", null=True, blank=True, on_delete=models.PROTECT, related_name="locks"
    )
    area = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="locks")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_locks"
    )
    purchase_date = models.DateTimeField(null=True, blank=True)
    install_date = models.DateTimeField(null=True, blank=True)
    current_firmware_version = models.CharField(max_length=64, blank=True, default="")

    # lock commands (PROTOCOL.md §6.2): every provision / install / uninstall raises it
    command_sequence = models.PositiveIntegerField(default=0)
    # key maps (§6.3, §8)
    signed_key_map_version = models.PositiveIntegerField(default=0, help_text="Newest key-map version signed.")
    signed_key_map_digest = models.CharField(max_length=64, blank=True, default="", help_text="Its content.")
    signed_key_map_not_after = models.DateTimeField(null=True, blank=True)
    # The access-lines digest (apps.access LockAccessVersion.digest) the lock's key map was last
    # computed from; empty = never computed. A build recomputes a lock whose lines moved since.
    key_map_lines_digest = models.CharField(max_length=64, null=True, blank=True, default=None)
    reported_key_map_version = models.PositiveIntegerField(default=0, help_text="currentKeyMapVersion at last sync.")
    applied_key_map_version = models.PositiveIntegerField(default=0, help_text="Newest version acknowledged.")
    applied_at = models.DateTimeField(null=True, blank=True, help_text="When that acknowledgement arrived.")
    # sync (§6.4, §9)
    last_sync_sequence = models.PositiveBigIntegerField(default=0, help_text="Highest syncSequence accepted.")
    last_known_sync_date = models.DateTimeField(null=True, blank=True, help_text="Server time of the last sync.")
    last_known_access_date = models.DateTimeField(null=True, blank=True, help_text="Newest accessDate reported.")
    access_log_high_sequence = models.PositiveBigIntegerField(default=0)
    # How many LockAccessLogGap rows the lock has: kept by the sync that opens or fills them (under
    # the lock's row lock), so a sync of a lock with none skips reading them.
    open_access_log_gaps = models.PositiveIntegerField(default=0, help_text="Open access-log gaps (rows).")
    deprovisioned_at = models.DateTimeField(null=True, blank=True)

    class Meta(Entity.Meta):
        indexes = [
            models.Index(fields=["property", "id"], name="lock_property_id_idx"),
            models.Index(fields=["area"], name="lock_area_idx"),
            models.Index(fields=["signed_key_map_not_after"], name="lock_key_map_not_after_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @builtins.property  # `property` is the foreign key here
    def key_map_pending(self) -> bool:
        """True when a newer key map was signed than the lock has acknowledged."""
        return self.applied_key_map_version < self.signed_key_map_version


class LockCredential(models.Model):
    """The secret a lock authenticates with (`khl_<prefix>_<random>`), shown once at provisioning.

    Only an HMAC under the pepper ring is stored (apps/accounts/credentials.py). The id is
    the spec's `LockReadOnly_private.apiKey`.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    lock = models.ForeignKey(Lock, on_delete=models.CASCADE, related_name="credentials")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    pepper_id = models.PositiveSmallIntegerField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"khl_{self.prefix}_…"


class KeyMapBuild(models.Model):
    """One worker run over a property's locks: which maps changed and were signed."""

    id = models.BigAutoField(primary_key=True)
    property_id = models.UUIDField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=32, default="change")  # change | reissue | rebuild
    locks_checked = models.PositiveIntegerField(default=0)
    locks_signed = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["property_id", "started_at"], name="keymapbuild_property_idx")]


class KeyMapRequest(models.Model):
    """ "Key maps of this property may have changed because of this event": written by the event
    handlers, answered (build set) by the next build of the property."""

    id = models.BigAutoField(primary_key=True)
    property_id = models.UUIDField()
    event_id = models.UUIDField(null=True, blank=True)
    event_created_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=64)
    # Which locks the change may alter: a list of lock ids (the build also takes every lock
    # whose access lines moved), or null for every lock of the property.
    lock_ids = models.JSONField(null=True, blank=True, default=None)
    requested_at = models.DateTimeField(auto_now_add=True)
    build = models.ForeignKey(KeyMapBuild, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests")
    # Revocation latency: from the change's event (written in the service's transaction) to the
    # moment the build that answered it had stored every map it signed (just before its commit).
    signed_after_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["event_id"], name="keymaprequest_event_idx"),
            models.Index(fields=["property_id", "id"], name="keymaprequest_open_idx", condition=Q(build__isnull=True)),
        ]


class SignedKeyMap(models.Model):
    """One version of one lock's key map: the payload and its signatures, exactly as sent.

    `digest` is the SHA-256 (hex) of the map's *content* (what the lock enforces, without
    version and times), which decides whether a new version is needed; `payload_digest` is
    the `keyMapDigest` of PROTOCOL.md §8 (base64url SHA-256 of the canonical payload), which
    a lock's acknowledgement must name.
    """

    id = models.BigAutoField(primary_key=True)
    lock = models.ForeignKey(Lock, on_delete=models.CASCADE, related_name="key_maps")
    version = models.PositiveIntegerField()
    payload = models.JSONField()
    signatures = models.JSONField()
    digest = models.CharField(max_length=64)
    payload_digest = models.CharField(max_length=43)
    issued_at = models.DateTimeField()
    not_after = models.DateTimeField()
    entry_count = models.PositiveIntegerField(default=0)
    build = models.ForeignKey(KeyMapBuild, null=True, blank=True, on_delete=models.SET_NULL, related_name="key_maps")

    class Meta:
        ordering = ["lock", "version"]
        constraints = [models.UniqueConstraint(fields=["lock", "version"], name="signedkeymap_lock_version")]


class LockAck(models.Model):
    """A lock's signed acknowledgement of one key-map version (PROTOCOL.md §8), kept as proof."""

    id = models.BigAutoField(primary_key=True)
    lock = models.ForeignKey(Lock, on_delete=models.CASCADE, related_name="acks")
    version = models.PositiveIntegerField()
    applied_at = models.DateTimeField(help_text="appliedAt, by the lock's clock.")
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()
    signatures = models.JSONField()

    class Meta:
        ordering = ["lock", "version"]
        constraints = [models.UniqueConstraint(fields=["lock", "version"], name="lockack_lock_version")]


class LockAccessLog(Entity):
    """Spec LockAccessLog: one access attempt the lock reported (granted or denied).

    `sequence` is the lock's own counter (1, 2, 3, …): a repeat is ignored, a hole is recorded
    as a LockAccessLogGap. `access_date` is the lock's clock, `created_at` when it arrived.
    User, device and key come from the key map the lock had (`key_map_version`).
    """

    lock = models.ForeignKey(Lock, on_delete=models.CASCADE, related_name="access_logs")
    sequence = models.PositiveBigIntegerField()
    access_date = models.DateTimeField()
    result = models.CharField(max_length=8, choices=LockAccessLogResult.choices)
    reason = models.CharField(max_length=32)
    kid = models.CharField(max_length=22, blank=True, default="")
    access_key_id = models.UUIDField(null=True, blank=True)
    user_id = models.UUIDField(null=True, blank=True)
    user_device_id = models.UUIDField(null=True, blank=True)
    user_group_id = models.UUIDField(null=True, blank=True)
    property_id = models.UUIDField(null=True, blank=True)
    area_id = models.UUIDField(null=True, blank=True)
    key_map_version = models.PositiveIntegerField(default=0)
    device_signature_failure = models.BooleanField(default=False)
    device_signature = models.CharField(max_length=100, blank=True, default="")

    class Meta(Entity.Meta):
        constraints = [models.UniqueConstraint(fields=["lock", "sequence"], name="lockaccesslog_lock_sequence")]
        indexes = [models.Index(fields=["user_id", "id"], name="lockaccesslog_user_idx")]


class LockAccessLogGap(models.Model):
    """Sequence numbers [first, last] a lock has not delivered (yet); shrinks as they arrive."""

    id = models.BigAutoField(primary_key=True)
    lock = models.ForeignKey(Lock, on_delete=models.CASCADE, related_name="access_log_gaps")
    first_sequence = models.PositiveBigIntegerField()
    last_sequence = models.PositiveBigIntegerField()
    detected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lock", "first_sequence"]
        constraints = [
            models.CheckConstraint(condition=Q(first_sequence__lte=models.F("last_sequence")), name="gap_ordered")
        ]

    @property
    def missing(self) -> int:
        return self.last_sequence - self.first_sequence + 1


class LockHealth(models.Model):
    """One lock's health, whatever reports it (docs/INTEGRATIONS.md "Lock health"): door state,
    battery, last contact, and the flags derived from them. Written only by
    apps.locks.services.health; one event per flag transition."""

    lock = models.OneToOneField(Lock, on_delete=models.CASCADE, primary_key=True, related_name="health")
    source = models.CharField(max_length=32, help_text="Who reported last: parqex, lockt, keyhouse.")
    door_state = models.CharField(max_length=8, default="unknown")  # open | closed | unknown
    door_opened_at = models.DateTimeField(null=True, blank=True, help_text="When the door last opened.")
    held_open_after_seconds = models.PositiveIntegerField(null=True, blank=True)
    battery_level = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Percent; empty = unknown.")
    battery_low = models.BooleanField(default=False)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    online = models.BooleanField(default=False)
    held_open = models.BooleanField(default=False)
    stale = models.BooleanField(default=False, help_text="Its integration is failing (not the same as offline).")
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"health of {self.lock_id}"
