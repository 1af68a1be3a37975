from django.db import migrations, models


def create_row(apps, schema_editor):
    apps.get_model("accounts", "CredentialVersion").objects.create(id=1, value=0)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_signincode_purpose"),
    ]

    operations = [
        migrations.CreateModel(
            name="CredentialVersion",
            fields=[
                ("id", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]
