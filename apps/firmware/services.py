"""Writes for firmware: upload a version, assign it to a target, unassign (docs/FIRMWARE.md).

Each write and its Event commit together. Upload is the one exception to "the whole
service is one atomic block": the image goes to file/S3 storage, which no database
transaction covers, so the row and its event are written in an inner transaction after the
bytes are stored, and the stored file is removed again if that transaction fails.
"""

import errno
import hashlib

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F

from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.services import event_append
from apps.firmware import assignment_cache, signing
from apps.firmware.choices import FirmwareAssignmentScope as Scope
from apps.firmware.constants import version_problem
from apps.firmware.models import FirmwareAssignment, FirmwareAssignmentVersion, FirmwareVersion
from apps.firmware.storage import firmware_storage, s3_location, storage_kind


def signing_key() -> signing.SigningKey:
    """The current firmware signing key from settings (validated when settings load)."""
    return signing.SigningKey(
        key_id=settings.KEYHOUSE_FIRMWARE_SIGNING_KEY_ID,
        private=signing.parse_private_key(settings.KEYHOUSE_FIRMWARE_SIGNING_KEY),
    )


def _refuse(field: str, message: str, *, status: int = 400):
    raise ApplicationError(f"{field}: {message}", fields={field: [message]}, status=status)


def _digest(upload: File, max_bytes: int) -> tuple[str, int]:
    """(sha256 hex, size) of the upload, read in chunks; 413 past `max_bytes`."""
    digest, size = hashlib.sha256(), 0
    upload.seek(0)
    for chunk in upload.chunks():
        size += len(chunk)
        if size > max_bytes:
            _refuse("firmware", f"The file is larger than the limit of {max_bytes} bytes.", status=413)
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest(), size


def _same_or_conflict(version: str, sha256: str, size: int) -> FirmwareVersion | None:
    """The existing version if its bytes are these bytes; 409 if they differ; None if new."""
    existing = FirmwareVersion.objects.filter(version=version).first()
    if existing is None:
        return None
    if existing.sha256 == sha256 and existing.size == size:
        return existing
    raise ConflictError(
        f"firmware version {version} already exists with different content",
        extra={"firmwareVersion": version, "sha256": existing.sha256, "size": existing.size},
    )


def firmware_version_upload(*, version: str, upload: File, actor: str) -> tuple[FirmwareVersion, bool]:
    """Store an image as `version`, sign its manifest (event `firmware.uploaded`).

    Returns (version, created). Uploading the very same bytes again returns the existing
    record and writes nothing (created False); other bytes under a taken version are a 409.
    """
    problem = version_problem(version)
    if problem:
        _refuse("version", problem)
    if not upload.size:
        _refuse("firmware", "The submitted file is empty.")
    max_bytes = settings.KEYHOUSE_FIRMWARE_MAX_BYTES
    if upload.size > max_bytes:
        _refuse("firmware", f"The file is larger than the limit of {max_bytes} bytes.", status=413)
    sha256, size = _digest(upload, max_bytes)
    existing = _same_or_conflict(version, sha256, size)
    if existing is not None:
        return existing, False

    storage = firmware_storage()
    name = _store(storage, f"{version}/{sha256}.bin", upload)
    try:
        with transaction.atomic():
            return _version_create(version=version, sha256=sha256, size=size, name=name, actor=actor), True
    except IntegrityError:
        # Someone uploaded the same version between our check and our insert.
        storage.delete(name)
        existing = _same_or_conflict(version, sha256, size)
        if existing is None:
            raise
        return existing, False
    except BaseException:
        storage.delete(name)
        raise


STORAGE_FULL = "The firmware storage is full: nothing was stored. Free space and upload again."


def _store(storage, name: str, upload: File) -> str:
    """Save the image; a full disk (or quota) is a 507 that leaves no partial file behind."""
    try:
        return storage.save(name, upload)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        if storage.exists(name) and not FirmwareVersion.objects.filter(storage_name=name).exists():
            storage.delete(name)  # the part written before the disk filled up
        _refuse("firmware", STORAGE_FULL, status=507)


def _version_create(*, version: str, sha256: str, size: int, name: str, actor: str) -> FirmwareVersion:
    storage = firmware_storage()
    bucket, key = s3_location(storage, name)
    signing_key_now = signing_key()
    firmware = FirmwareVersion(
        version=version,
        sha256=sha256,
        size=size,
        storage_name=name,
        s3_bucket=bucket,
        s3_key=key,
        manifest_signature=signing.manifest_sign(signing_key_now, version=version, sha256=sha256, size=size),
        signing_key_id=signing_key_now.key_id,
        last_modified_by=actor,
    )
    firmware.full_clean(validate_unique=False)  # the unique index decides races (IntegrityError above)
    firmware.save()
    event_append(
        event_name="firmware.uploaded",
        actor=actor,
        firmware_version=version,
        payload={"sha256": sha256, "size": size, "storage": storage_kind(storage), "keyId": signing_key_now.key_id},
    )
    return firmware


def _target(scope: str, *, lock=None, area=None, prop=None) -> dict:
    """The FirmwareAssignment target fields for `scope`; refuses a missing or extra target."""
    given = {"lockId": lock, "areaId": area, "propertyId": prop}
    needed = {Scope.LOCK: "lockId", Scope.AREA: "areaId", Scope.PROPERTY: "propertyId", Scope.GLOBAL: None}
    if scope not in needed:
        _refuse("scope", f"Must be one of {', '.join(Scope.values)}.")
    wanted = needed[scope]
    if wanted and given[wanted] is None:
        _refuse(wanted, f"Required when scope is {scope}.")
    extra = [name for name, value in given.items() if value is not None and name != wanted]
    if scope == Scope.AREA and prop is not None and prop.pk == area.property_id:
        extra.remove("propertyId")  # naming the area's own property is allowed
    if extra:
        _refuse(extra[0], f"Not allowed when scope is {scope}.")
    return {
        Scope.LOCK: {"lock": lock},
        Scope.AREA: {"area": area, "property_id": area.property_id if area else None},
        Scope.PROPERTY: {"property": prop},
        Scope.GLOBAL: {},
    }[scope]


def _refs(scope: str, target: dict) -> dict:
    """Event refs for a target: lock / area / property ids (a lock's current property too)."""
    lock, area, prop = target.get("lock"), target.get("area"), target.get("property")
    return {
        "lock_id": lock.pk if lock else None,
        "area_id": area.pk if area else None,
        "property_id": (prop.pk if prop else None)
        or (area.property_id if area else None)
        or (lock.property_id if lock else None),
    }


def _target_filter(scope: str, target: dict) -> dict:
    return {"scope": scope, **{k: v for k, v in target.items() if k in ("lock", "area", "property")}}


def firmware_assignment_version_bump() -> None:
    """Raise the assignments' version in the caller's transaction (it must be in one): when
    that commits, the next request in every process reads the assignments again
    (firmware.assignment_cache); when it rolls back, nothing was kept wrongly."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("firmware_assignment_version_bump() must run inside the change's transaction")
    if not FirmwareAssignmentVersion.objects.filter(pk=1).update(value=F("value") + 1):
        FirmwareAssignmentVersion.objects.create(pk=1, value=1)  # the row went (a test flush): start again
    assignment_cache.assignments_changed()


@transaction.atomic
def firmware_assign(
    *, firmware_version: FirmwareVersion, scope: str, actor: str, lock=None, area=None, prop=None
) -> FirmwareAssignment:
    """Require `firmware_version` at one target, replacing what was assigned there (event
    `firmware.assigned`; none when that version was already assigned there)."""
    target = _target(scope, lock=lock, area=area, prop=prop)
    lookup = _target_filter(scope, target)
    assignment = FirmwareAssignment.objects.select_for_update().select_related("firmware_version").filter(**lookup)
    assignment = assignment.first()
    previous = assignment.firmware_version.version if assignment else None
    if assignment is not None and assignment.firmware_version_id == firmware_version.pk:
        return assignment
    if assignment is None:
        assignment = FirmwareAssignment(scope=scope, **target)
    assignment.firmware_version = firmware_version
    assignment.last_modified_by = actor
    assignment.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        # A concurrent first assignment to the same target won; replace its version instead.
        assignment = FirmwareAssignment.objects.select_for_update().get(**lookup)
        previous = assignment.firmware_version.version
        assignment.firmware_version, assignment.last_modified_by = firmware_version, actor
        assignment.save()
    firmware_assignment_version_bump()  # every process reads the assignments again
    event_append(
        event_name="firmware.assigned",
        actor=actor,
        firmware_version=firmware_version.version,
        payload={"scope": scope, "previousVersion": previous},
        **_refs(scope, target),
    )
    return assignment


@transaction.atomic
def firmware_unassign(*, scope: str, actor: str, lock=None, area=None, prop=None) -> FirmwareAssignment | None:
    """Remove the assignment at one target (event `firmware.unassigned`); nothing assigned
    there is not an error and writes nothing. Returns the removed assignment."""
    target = _target(scope, lock=lock, area=area, prop=prop)
    assignment = (
        FirmwareAssignment.objects.select_for_update()
        .select_related("firmware_version")
        .filter(**_target_filter(scope, target))
        .first()
    )
    if assignment is None:
        return None
    version = assignment.firmware_version.version
    assignment.delete()
    firmware_assignment_version_bump()  # every process reads the assignments again
    event_append(
        event_name="firmware.unassigned",
        actor=actor,
        firmware_version=version,
        payload={"scope": scope},
        **_refs(scope, target),
    )
    return assignment
