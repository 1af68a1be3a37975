"""Import runs in the API: the upload form, the apply body, and a run with its dry-run diff."""

from django.conf import settings
from rest_framework import serializers

from apps.core.api.serializers import InputSerializer, TimestampField
from apps.imports.models import ImportRunKind, ImportRunMode, ImportRunStatus
from apps.imports.services import import_run_progress


class CreateImportSerializer(InputSerializer):
    """createImport form (multipart): the file and what it holds."""

    file = serializers.FileField(
        allow_empty_file=True,
        use_url=False,
        help_text=f"CSV (UTF-8, `,` or `;`) or .xlsx (first sheet); at most {settings.KEYHOUSE_IMPORT_MAX_BYTES:,} "
        "bytes (413 beyond). Columns per kind: docs/IMPORT.md.",
    )
    kind = serializers.ChoiceField(choices=ImportRunKind.choices)
    mode = serializers.ChoiceField(
        choices=ImportRunMode.choices,
        default=ImportRunMode.MERGE,
        help_text="merge: create and update what the file names; sync: also remove what it leaves out.",
    )


class ApplyImportSerializer(InputSerializer):
    validRowsOnly = serializers.BooleanField(
        default=False, help_text="Required true to apply a run that has row errors: only its valid rows are applied."
    )


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Spreadsheet row: 1 is the header, 0 the file itself.")
    column = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class ImportOperationSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["create", "update", "unchanged", "remove"])
    row = serializers.IntegerField(required=False, help_text="Absent for removals (sync mode).")
    key = serializers.CharField(help_text="What the row names: an email, a name, a path.")
    id = serializers.CharField(required=False, help_text="The matched object's id (update, unchanged, remove).")
    changes = serializers.DictField(
        required=False, help_text="update: {column: [before, after]} for each column that changes."
    )
    values = serializers.DictField(required=False, help_text="create: the new object's columns.")


class ImportRunSerializer(serializers.Serializer):
    """An import run: its status, progress (rows done / total), summary and row errors (its
    dry-run diff is paged: listImportOperations)."""

    importId = serializers.UUIDField(source="id")
    propertyId = serializers.UUIDField(source="property_id")
    kind = serializers.ChoiceField(choices=ImportRunKind.choices)
    mode = serializers.ChoiceField(choices=ImportRunMode.choices)
    status = serializers.ChoiceField(choices=ImportRunStatus.choices)
    fileName = serializers.CharField(source="file_name")
    createdBy = serializers.CharField(source="created_by")
    appliedBy = serializers.CharField(source="applied_by")
    createdAt = TimestampField(source="created_at")
    finishedAt = TimestampField(source="finished_at", allow_null=True)
    rowsDone = serializers.SerializerMethodField()
    rowsTotal = serializers.SerializerMethodField()
    summary = serializers.DictField(help_text="Counts: create, update, unchanged, remove, errors; and `applied`.")
    validRowsOnly = serializers.BooleanField(source="valid_rows_only")
    failure = serializers.CharField(help_text="Why applying failed, e.g. what changed since validation.")
    errors = RowErrorSerializer(many=True)

    def get_rowsDone(self, run) -> int:  # noqa: N802 - camelCase API name
        return import_run_progress(run)[0]

    def get_rowsTotal(self, run) -> int:  # noqa: N802 - camelCase API name
        return import_run_progress(run)[1]
