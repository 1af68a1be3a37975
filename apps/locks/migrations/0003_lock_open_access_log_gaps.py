"""Lock.open_access_log_gaps: how many LockAccessLogGap rows a lock has (a sync of a lock with
none skips reading them), set from the rows that exist."""

from django.db import migrations, models
from django.db.models import Count


def count_open_gaps(apps, schema_editor):
    Lock = apps.get_model("locks", "Lock")
    LockAccessLogGap = apps.get_model("locks", "LockAccessLogGap")
    counts = LockAccessLogGap.objects.order_by().values("lock_id").annotate(n=Count("id")).values_list("lock_id", "n")
    for lock_id, n in counts:
        Lock.objects.filter(pk=lock_id).update(open_access_log_gaps=n)


class Migration(migrations.Migration):
    dependencies = [
        ("locks", "0002_lock_protocol"),
    ]

    operations = [
        migrations.AddField(
            model_name="lock",
            name="open_access_log_gaps",
            field=models.PositiveIntegerField(default=0, help_text="Open access-log gaps (rows)."),
        ),
        migrations.RunPython(count_open_gaps, migrations.RunPython.noop),
    ]
