"""A run's dry-run diff moves from one JSON list on the run to one row per operation, so a
large file's diff is written, paged and applied a chunk at a time (docs/IMPORT.md). Existing
runs keep their plans: each list is copied into rows before the field goes."""

import django.db.models.deletion
from django.db import migrations, models


def plans_to_rows(apps, schema_editor):
    ImportRun = apps.get_model("imports", "ImportRun")
    ImportOperation = apps.get_model("imports", "ImportOperation")
    for run in ImportRun.objects.exclude(plan=[]).iterator(chunk_size=50):
        ImportOperation.objects.bulk_create(
            [
                ImportOperation(run=run, seq=seq, op=op["op"], row=op.get("row"), data=op)
                for seq, op in enumerate(run.plan)
            ],
            batch_size=1000,
        )


def rows_to_plans(apps, schema_editor):
    ImportRun = apps.get_model("imports", "ImportRun")
    for run in ImportRun.objects.iterator(chunk_size=50):
        run.plan = list(run.operations.order_by("seq").values_list("data", flat=True))
        run.save(update_fields=["plan"])


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_import_run"),
    ]

    operations = [
        migrations.CreateModel(
            name="ImportOperation",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("seq", models.PositiveIntegerField()),
                (
                    "op",
                    models.CharField(
                        choices=[
                            ("create", "create"),
                            ("update", "update"),
                            ("unchanged", "unchanged"),
                            ("remove", "remove"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "row",
                    models.PositiveIntegerField(
                        blank=True, help_text="Spreadsheet row; blank for removals.", null=True
                    ),
                ),
                ("data", models.JSONField()),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="operations",
                        to="imports.importrun",
                    ),
                ),
            ],
            options={
                "ordering": ["run", "seq"],
                "indexes": [models.Index(fields=["run", "op", "seq"], name="importoperation_run_op_seq")],
                "constraints": [models.UniqueConstraint(fields=("run", "seq"), name="importoperation_run_seq")],
            },
        ),
        migrations.RunPython(plans_to_rows, rows_to_plans),
        migrations.RemoveField(
            model_name="importrun",
            name="plan",
        ),
    ]
