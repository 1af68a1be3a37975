"""Build (and seal) device maps by hand: the manual twin of the `device-maps-sweep` beat task."""

from django.core.management.base import BaseCommand

from apps.core.actors import SYSTEM
from apps.devices import services


class Command(BaseCommand):
    help = "Build the device maps that are behind; --all recomputes every device (a build-all)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Recompute every provisioned device's map.")

    def handle(self, *args, **options):
        if options["all"]:
            result = services.device_maps_rebuild(actor=SYSTEM)
        else:
            result = services.device_maps_build_pending(actor=SYSTEM)
        self.stdout.write(f"checked {result['checked']} devices, sealed {result['sealed']} new versions")
