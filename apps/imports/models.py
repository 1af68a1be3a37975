"""An import run: one uploaded file of one kind for one property, its validation, its dry-run
plan and how far applying it has got (docs/IMPORT.md)."""

from django.db import models

from apps.core.models import Entity


class ImportRunKind(models.TextChoices):
    USERS = "users"
    AREAS = "areas"
    GROUPS = "groups"
    MEMBERSHIPS = "memberships"
    GRANTS = "grants"


class ImportRunMode(models.TextChoices):
    MERGE = "merge"  # create and update what the file names; leave the rest
    SYNC = "sync"  # and remove what the file leaves out


class ImportRunStatus(models.TextChoices):
    UPLOADED = "uploaded"
    VALIDATING = "validating"
    VALIDATED = "validated"
    APPLYING = "applying"
    APPLIED = "applied"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ImportRun(Entity):
    """A file's way from upload to applied.

    `plan` is the dry-run diff: one operation per row (create, update with field-level
    before/after, unchanged) and, in sync mode, the removals. Apply carries it out in one
    transaction, `applied_ops` included, so a worker that dies leaves nothing half-applied
    and the redelivered task starts again from the first operation (docs/IMPORT.md).
    """

    property = models.ForeignKey("properties.Property", on_delete=models.PROTECT, related_name="import_runs")
    kind = models.CharField(max_length=16, choices=ImportRunKind.choices)
    mode = models.CharField(max_length=8, choices=ImportRunMode.choices, default=ImportRunMode.MERGE)
    status = models.CharField(max_length=12, choices=ImportRunStatus.choices, default=ImportRunStatus.UPLOADED)
    file_name = models.CharField(max_length=255, blank=True, default="")
    content = models.BinaryField(editable=False)
    principal = models.JSONField(
        null=True, blank=True, editable=False, help_text="The API caller's grants (blank: staff admin)."
    )
    created_by = models.CharField(max_length=120, help_text="Who uploaded it.")
    applied_by = models.CharField(max_length=120, blank=True, default="")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    plan = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    valid_rows_only = models.BooleanField(default=False)
    applied_ops = models.PositiveIntegerField(default=0, help_text="Operations applied (committed with them).")
    failure = models.TextField(blank=True, default="")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(Entity.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.file_name or self.pk}"
