from django.core.management.base import BaseCommand

from apps.events.models import Event
from apps.events.services import event_process, events_sweep


class Command(BaseCommand):
    help = "Re-enqueue unprocessed events (the beat task's manual twin); --now processes them here."

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="process in this process instead of enqueueing")

    def handle(self, *args, now=False, **options):
        if now:
            ids = list(Event.objects.unprocessed().values_list("id", flat=True))
            for event_id in ids:
                event_process(event_id=event_id)
            self.stdout.write(f"processed {len(ids)} event(s)")
        else:
            self.stdout.write(f"enqueued {events_sweep()} event(s)")
