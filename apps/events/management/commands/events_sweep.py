from django.core.management.base import BaseCommand

from apps.events.models import Event
from apps.events.services import event_process, events_sweep


class Command(BaseCommand):
    help = (
        "Enqueue due events (the beat task's manual twin); "
        "--now processes every unprocessed event here, ignoring the retry schedule."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="process in this process instead of enqueueing")

    def handle(self, *args, now=False, **options):
        if now:
            ids = list(Event.objects.unprocessed().order_by("id").values_list("id", flat=True))
            failed = 0
            for event_id in ids:
                event = event_process(event_id=event_id, force=True)
                failed += bool(event is not None and event.processed_at is None)
            self.stdout.write(f"processed {len(ids) - failed} event(s), {failed} failed")
        else:
            self.stdout.write(f"enqueued {events_sweep()} event(s)")
