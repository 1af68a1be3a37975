from django.core.management.base import BaseCommand

from apps.locks.services import lock_health_sweep


class Command(BaseCommand):
    help = "Re-check every lock's time-based health flags (online, held open) now (docs/INTEGRATIONS.md)."

    def handle(self, *args, **options):
        turned = lock_health_sweep()
        self.stdout.write(f"{turned} health flag(s) turned")
