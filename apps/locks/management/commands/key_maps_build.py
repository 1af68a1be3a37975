"""Build (and sign) key maps by hand: the manual twin of the `key-maps-sweep` beat task."""

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.locks import services
from apps.locks.models import Lock


class Command(BaseCommand):
    help = "Compute every key map of --property, sign those whose content changed; --reissue re-signs all."

    def add_arguments(self, parser):
        parser.add_argument("--property", help="Only this property (default: the sweep: pending and due).")
        parser.add_argument("--reissue", action="store_true", help="New versions for every lock of --property.")
        parser.add_argument(
            "--parts",
            action="store_true",
            help="Enqueue --property's build as parts of 100 locks, for several workers to share (docs/SCALING.md).",
        )

    def handle(self, *args, **options):
        property_id = options["property"]
        if not property_id:
            result = services.key_maps_sweep(grace_seconds=0)
            self.stdout.write(f"built {result['built']} properties, re-issued {result['reissued']} maps")
            if result["failed"]:
                self.stderr.write(f"failed: {', '.join(result['failed'])}")
                raise SystemExit(1)
            return
        if options["parts"]:
            with transaction.atomic():
                parts = services.key_maps_rebuild(property_id=property_id, reissue=options["reissue"])
            self.stdout.write(f"enqueued {len(parts)} parts of {sum(map(len, parts))} locks")
            return
        reissue = ()
        if options["reissue"]:
            reissue = Lock.objects.alive().filter(property_id=property_id).values_list("id", flat=True)
        build = services.key_maps_build(
            property_id=property_id,
            reissue_lock_ids=reissue,
            reason="reissue" if reissue else "rebuild",
            every_lock=True,
        )
        self.stdout.write(f"{build.locks_checked} locks checked, {build.locks_signed} signed in {build.duration_ms} ms")
