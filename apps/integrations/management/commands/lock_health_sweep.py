from django.core.management.base import BaseCommand

from apps.integrations.health import health_sweep


class Command(BaseCommand):
    help = (
        "Re-check every lock's time-based health now: offline, held open, and stale where its "
        "integration account is failing (twin of the lock-health-sweep beat task; docs/INTEGRATIONS.md)."
    )

    def handle(self, *args, **options):
        turned = health_sweep()
        self.stdout.write(f"{turned} health flag(s) turned")
