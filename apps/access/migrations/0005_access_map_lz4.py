from django.db import migrations

from apps.core.toast import lz4_compression


class Migration(migrations.Migration):
    """Access maps compressed with lz4: a staff member's names every lock of the property."""

    dependencies = [
        ("access", "0004_membership_validity_window"),
    ]

    operations = [lz4_compression("access_useraccessmap", "entries")]
