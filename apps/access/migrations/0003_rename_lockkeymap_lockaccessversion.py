# access.LockKeyMap is renamed LockAccessVersion: it versions a lock's derived access lines, and
# "key map" now means only the signed artefact a lock downloads (apps.locks SignedKeyMap).
# A rename (the table access_lockkeymap becomes access_lockaccessversion, rows kept) and a label.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0002_access_model"),
    ]

    operations = [
        migrations.RenameModel(old_name="LockKeyMap", new_name="LockAccessVersion"),
        migrations.AlterField(
            model_name="lockaccessversion",
            name="version",
            field=models.PositiveIntegerField(default=0, verbose_name="access lines version"),
        ),
    ]
