"""Spec FirmwareVersion (an uploaded lock image) and FirmwareVersionScope (where it is required)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from apps.core.models import Entity
from apps.firmware.choices import FirmwareAssignmentScope, FirmwareVersionDeviceType
from apps.firmware.constants import VERSION_MAX_LENGTH, version_problem


def validate_version(value: str) -> None:
    problem = version_problem(value)
    if problem:
        raise ValidationError(problem)


class FirmwareVersion(Entity):
    """One uploaded firmware image: its bytes live in the "firmware" storage under
    `storage_name`; `sha256`/`size` describe them, and `manifest_signature` is the Ed25519
    signature (key `signing_key_id`) over the canonical manifest {version, sha256, size}.
    `s3_bucket`/`s3_key` are filled when the storage is S3-compatible."""

    version = models.CharField(max_length=VERSION_MAX_LENGTH, unique=True, validators=[validate_version])
    device_type = models.CharField(
        max_length=16, choices=FirmwareVersionDeviceType.choices, default=FirmwareVersionDeviceType.LOCK
    )
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    storage_name = models.CharField(max_length=512, help_text="Name of the image in the firmware storage.")
    s3_bucket = models.CharField(max_length=255, blank=True, default="")
    s3_key = models.CharField(max_length=1024, blank=True, default="")
    manifest_signature = models.CharField(max_length=128, help_text="Base64 Ed25519 signature of the manifest.")
    signing_key_id = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.version


class FirmwareAssignment(Entity):
    """Spec FirmwareVersionScope: `firmware_version` is required at one target.

    One row per target (lock, area, property, or the single global row). Area rows also
    record the area's property so a page of areas or properties finds its rows in one query.
    Unassigning deletes the row; the events keep the history.
    """

    firmware_version = models.ForeignKey(FirmwareVersion, on_delete=models.PROTECT, related_name="assignments")
    scope = models.CharField(max_length=16, choices=FirmwareAssignmentScope.choices)
    lock = models.ForeignKey("locks.Lock", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    property = models.ForeignKey(
        "properties.Property", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta(Entity.Meta):
        constraints = [
            models.CheckConstraint(
                name="firmwareassignment_target_matches_scope",
                condition=(
                    Q(scope="lock", lock__isnull=False, area__isnull=True, property__isnull=True)
                    | Q(scope="area", lock__isnull=True, area__isnull=False, property__isnull=False)
                    | Q(scope="property", lock__isnull=True, area__isnull=True, property__isnull=False)
                    | Q(scope="global", lock__isnull=True, area__isnull=True, property__isnull=True)
                ),
            ),
            models.UniqueConstraint(fields=["lock"], condition=Q(scope="lock"), name="firmwareassignment_one_per_lock"),
            models.UniqueConstraint(fields=["area"], condition=Q(scope="area"), name="firmwareassignment_one_per_area"),
            models.UniqueConstraint(
                fields=["property"], condition=Q(scope="property"), name="firmwareassignment_one_per_property"
            ),
            models.UniqueConstraint(
                fields=["scope"], condition=Q(scope="global"), name="firmwareassignment_one_global"
            ),
        ]
        indexes = [models.Index(fields=["scope", "property"], name="firmwareassignment_scope_prop")]

    def __str__(self) -> str:
        target = self.lock_id or self.area_id or self.property_id
        where = f"{self.scope} {target}" if target else "global"
        return f"{where} → {self.firmware_version.version}"


class FirmwareAssignmentVersion(models.Model):
    """One row (id 1): a number every change to the firmware assignments raises, in the
    change's own transaction (services.firmware_assignment_version_bump). Each process keeps
    the assignment maps it has read while this number is unchanged
    (firmware.assignment_cache); it is read with the API-key counter in one query per request
    (core.versions). See docs/ARCHITECTURE.md "Firmware assignments: the per-process map"."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    value = models.BigIntegerField(default=0)
