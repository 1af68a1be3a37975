"""Spec UserDevice: a person's phone, with the public keys it registered (docs/PROTOCOL.md §7)."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q

from apps.core.models import Entity
from apps.devices.choices import UserDeviceDeviceType


class UserDevice(Entity):
    """Spec UserDevice (+ UserDeviceReadOnly_private): one phone of one person.

    - The phone generated its key pairs and registered only the public halves (apps.keys
      `key_register_public`, owner type `userDevice`): `access_key` (deviceAccessKey,
      Ed25519: answers a lock's nonce), `sync_key` (deviceSyncKey, Ed25519: signs sync
      input) and `seal_key` (deviceSyncKey, X25519: access maps are sealed to it).
    - Deprovisioning is a soft delete (`typeState: deleted`, `deprovisioned_at`) that also
      deactivates the three keys, so the access key leaves every lock key map.
    - Sync state: `last_sync_counter` (replay guard: strictly increasing), the versions the
      phone reported, and the per-device access-map version: `map_version` rises by one each
      time `map_digest` (SHA-256 of the map's content, PROTOCOL.md §7.4) changes.

    Writes go through apps.devices.services only.
    """

    external_refs = GenericRelation("core.ExternalRef", related_query_name="user_device")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="devices")
    device_type = models.CharField(max_length=16, choices=UserDeviceDeviceType.choices)
    make_model = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200)
    access_key = models.OneToOneField("keys.Key", on_delete=models.PROTECT, related_name="access_key_device")
    sync_key = models.OneToOneField("keys.Key", on_delete=models.PROTECT, related_name="sync_key_device")
    seal_key = models.OneToOneField("keys.Key", on_delete=models.PROTECT, related_name="seal_key_device")

    current_os_version = models.CharField(max_length=64, blank=True, default="")
    current_app_version = models.CharField(max_length=64, blank=True, default="")
    current_user_access_map_version = models.CharField(
        max_length=32, blank=True, default="", help_text="The map version the phone reported at its last sync."
    )
    last_known_sync_date = models.DateTimeField(null=True, blank=True, help_text="Server time of the last sync.")
    last_sync_counter = models.PositiveBigIntegerField(default=0, help_text="Highest syncCounter accepted.")
    map_version = models.PositiveIntegerField(default=0, help_text="Current access-map version of this device.")
    map_digest = models.CharField(max_length=64, blank=True, default="")
    deprovisioned_at = models.DateTimeField(null=True, blank=True)

    class Meta(Entity.Meta):
        indexes = [
            models.Index(fields=["user", "id"], name="userdevice_user_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(type_state="deleted") | Q(deprovisioned_at__isnull=True),
                name="userdevice_deprovisioned_is_deleted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.device_type})"

    @property
    def provisioned(self) -> bool:
        return self.deprovisioned_at is None


class DeviceMap(models.Model):
    """The device's access map as built and sealed once per version (PROTOCOL.md §7.4-§7.5).

    Built by the worker (`services.device_maps_build`, task `tasks.device_maps_build`) after an
    event that may change it, or once inline by a sync that finds it not built yet. A sync whose
    phone holds `version` and finds the row current (`built_generation == generation`) reads
    nothing else: no derived access, no schedules, no locks.

    - `generation` rises each time an event asks for a rebuild (`device_maps_request`);
      `built_generation` is the generation the stored map was computed at. The row is current
      when they are equal; a build that started before a newer request leaves it behind. A
      device's first build creates the row first (`services.maps.map_fence`), so that requests
      for the device's properties see it (PROTOCOL.md §7.5, "The first build of a device").
    - `sealed`: the base64url blob of `version`, sealed to the device (issuedAt/notAfter as sealed).
    - `property_ids`: the properties in the map, comma-joined, sorted: whose propertyKeys sign
      the sync answer, and which maps a property's change must reach.
    - `signing_key`: when the map names one property (most phones), that property's signing
      key at the build, read with the device by a no-change sync; the sync signs with it while
      it is still the property's active key, else it reads the active keys (services.sync).
    """

    device = models.OneToOneField(UserDevice, on_delete=models.CASCADE, primary_key=True, related_name="built_map")
    version = models.PositiveIntegerField(default=0)
    digest = models.CharField(max_length=64, blank=True, default="")
    sealed = models.TextField(blank=True, default="")
    issued_at = models.DateTimeField(null=True, blank=True)
    not_after = models.DateTimeField(null=True, blank=True)
    property_ids = models.TextField(blank=True, default="")
    signing_key = models.ForeignKey("keys.Key", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    generation = models.PositiveBigIntegerField(default=1)
    built_generation = models.PositiveBigIntegerField(default=0)
    built_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"map {self.version} of device {self.device_id}"

    @property
    def current(self) -> bool:
        return self.built_generation >= self.generation and bool(self.sealed)

    @property
    def properties(self) -> list[str]:
        return [p for p in self.property_ids.split(",") if p]
