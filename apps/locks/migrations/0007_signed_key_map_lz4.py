from django.db import migrations

from apps.core.toast import lz4_compression


class Migration(migrations.Migration):
    """Signed key maps (~200 kB of JSON each on the bench campus) compressed with lz4."""

    dependencies = [
        ("locks", "0006_key_map_request_latency"),
    ]

    operations = [lz4_compression("locks_signedkeymap", "payload")]
