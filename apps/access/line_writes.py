"""The lock side's writes of a derived-access refresh (apps.access.derive), in batches."""

from datetime import datetime

from django.db import connection
from django.utils import timezone

from apps.access import compute
from apps.access.models import LockAccessEntry, LockAccessVersion

LINE_WRITE_BATCH = 20_000  # lock lines per write of the lock side


def _parse(value: str):
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


LINE_COLUMNS = (
    "property_id",
    "lock_id",
    "kind",
    "subject_id",
    "schedule_id",
    "valid_from",
    "valid_until",
    "source",
    "source_area_id",
)


def _line_row(property_id, lock_id: str, line: compute.LockEntry) -> tuple:
    """A lock line as a LockAccessEntry row, its values in LINE_COLUMNS order."""
    return (
        str(property_id),
        lock_id,
        line.kind,
        line.subject_id or None,
        line.schedule_id or None,
        _parse(line.valid_from),
        _parse(line.valid_until),
        line.source,
        line.area_id,
    )


class LineWrites:
    """The lock side's writes, in batches: a changed lock's old lines deleted and its new ones
    inserted (COPY on PostgreSQL, bulk_create elsewhere), and its `LockAccessVersion` upserted.
    One statement per batch instead of a DELETE, an INSERT and a save per lock: a rebuild of
    the 100k-person property writes a million lines for 10,000 locks, and building and quoting
    those statements in Python was 60 of its 134 s (docs/PERFORMANCE.md, "The 100k-person
    property"). A batch is bounded by LINE_WRITE_BATCH lines, so memory does not follow the
    property's size."""

    def __init__(self, property_id):
        self.property_id = property_id
        self.stale_locks: list[str] = []  # locks whose stored lines go, before the batch's inserts
        self.lines: list[tuple] = []
        self.versions: list[LockAccessVersion] = []

    def replace(self, lock_id: str, lines: list, *, had_lines: bool) -> None:
        if had_lines:  # else nothing to delete: a DELETE per new lock re-reads the property's lines
            self.stale_locks.append(lock_id)
        self.lines.extend(_line_row(self.property_id, lock_id, line) for line in lines)
        if len(self.lines) >= LINE_WRITE_BATCH:
            self._write_lines()

    def version(self, lines_version: LockAccessVersion) -> None:
        lines_version.computed_at = timezone.now()
        self.versions.append(lines_version)
        if len(self.versions) >= LINE_WRITE_BATCH // 10:
            self._write_versions()

    def flush(self) -> None:
        self._write_lines()
        self._write_versions()

    def _write_lines(self) -> None:
        for start in range(0, len(self.stale_locks), 1000):
            LockAccessEntry.objects.filter(
                property_id=self.property_id, lock_id__in=self.stale_locks[start : start + 1000]
            ).delete()
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(LockAccessEntry._meta.db_table)
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy,
            ):
                for row in self.lines:
                    copy.write_row(row)
        elif self.lines:
            LockAccessEntry.objects.bulk_create(
                (LockAccessEntry(**dict(zip(LINE_COLUMNS, row, strict=True))) for row in self.lines), batch_size=500
            )
        self.stale_locks, self.lines = [], []

    def _write_versions(self) -> None:
        if self.versions:
            LockAccessVersion.objects.bulk_create(
                self.versions,
                update_conflicts=True,
                unique_fields=["lock_id"],
                update_fields=["version", "digest", "entry_count", "computed_at"],
            )
        self.versions = []
