"""Where firmware images live: the "firmware" entry of settings.STORAGES (docs/FIRMWARE.md).

Local files by default; django-storages' S3Storage when KEYHOUSE_FIRMWARE_S3_BUCKET is set.
Reads stream in chunks: from S3 with a ranged GET (the bytes are never spooled to disk
first, unlike S3File), from local files with seek + read.
"""

import posixpath
from collections.abc import Iterator

from django.core.files.storage import Storage, storages

from apps.firmware.constants import CHUNK_SIZE

STORAGE_ALIAS = "firmware"


def firmware_storage() -> Storage:
    return storages[STORAGE_ALIAS]


def _is_s3(storage: Storage) -> bool:
    return hasattr(storage, "bucket_name") and hasattr(storage, "connection")


def s3_location(storage: Storage, name: str) -> tuple[str, str]:
    """(bucket, object key) of a stored name on S3-compatible storage, else ("", "")."""
    if not _is_s3(storage):
        return "", ""
    location = (storage.location or "").strip("/")
    return storage.bucket_name, posixpath.join(location, name) if location else name


def storage_kind(storage: Storage) -> str:
    return "s3" if _is_s3(storage) else "local"


def read_range(storage: Storage, name: str, start: int, length: int) -> Iterator[bytes]:
    """Yield `length` bytes of `name` from offset `start`, CHUNK_SIZE at a time."""
    if length <= 0:
        return
    if _is_s3(storage):
        bucket, key = s3_location(storage, name)
        response = storage.connection.meta.client.get_object(
            Bucket=bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
        )
        body = response["Body"]
        try:
            yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()
        return
    with storage.open(name, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
