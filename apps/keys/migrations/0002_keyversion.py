from django.db import migrations, models


def create_row(apps, schema_editor):
    apps.get_model("keys", "KeyVersion").objects.create(id=1, value=0)


class Migration(migrations.Migration):
    dependencies = [
        ("keys", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="KeyVersion",
            fields=[
                ("id", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]
