"""An import run: one uploaded file of one kind for one property, its validation, its dry-run
plan and how far applying it has got (docs/IMPORT.md)."""

import builtins

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

    The dry-run diff is its `operations` (ImportOperation rows, in order): one per row
    (create, update with field-level before/after, unchanged) and, in sync mode, the
    removals; stored and read a chunk at a time, so a 50k-row file is never held whole.
    Apply carries it out in one transaction, `applied_ops` included, so a worker that dies
    leaves nothing half-applied and the redelivered task starts again from the first
    operation (docs/IMPORT.md).
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
    summary = models.JSONField(default=dict, blank=True)
    valid_rows_only = models.BooleanField(default=False)
    applied_ops = models.PositiveIntegerField(default=0, help_text="Operations applied (committed with them).")
    failure = models.TextField(blank=True, default="")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(Entity.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.file_name or self.pk}"

    @builtins.property
    def operations_total(self) -> int:
        return sum(self.summary.get(op, 0) for op in OPERATIONS)

    @builtins.property
    def plan(self) -> list[dict]:
        """The whole diff as a list (small runs and tests; pages read `operations`)."""
        return list(self.operations.order_by("seq").values_list("data", flat=True))


OPERATIONS = ("create", "update", "unchanged", "remove")


class ImportOperation(models.Model):
    """One operation of a run's dry-run diff, in plan order (`seq`). `data` is the operation
    as planned (docs/IMPORT.md "The plan"); `op` and `row` are copied out of it to filter and
    page on."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="operations")
    seq = models.PositiveIntegerField()
    op = models.CharField(max_length=10, choices=[(op, op) for op in OPERATIONS])
    row = models.PositiveIntegerField(null=True, blank=True, help_text="Spreadsheet row; blank for removals.")
    data = models.JSONField()

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="importoperation_run_seq")]
        indexes = [models.Index(fields=["run", "op", "seq"], name="importoperation_run_op_seq")]

    def __str__(self) -> str:
        return f"{self.op} {self.data.get('key', '')}"
