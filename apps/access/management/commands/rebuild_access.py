"""Recompute derived access from scratch: `manage.py rebuild_access [--property ID]`."""

import time

from django.core.management.base import BaseCommand

from apps.access import derive
from apps.properties.models import Property


class Command(BaseCommand):
    help = "Recompute every lock's access lines and every person's access map (all properties, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--property", dest="property_id", help="Only this property (id).")

    def handle(self, *args, property_id=None, **options):
        properties = Property.objects.alive().order_by("id")
        if property_id:
            properties = properties.filter(pk=property_id)
        for prop in properties:
            started = time.perf_counter()
            result = derive.property_rebuild(property_id=prop.pk)
            self.stdout.write(
                f"{prop.display_name} ({prop.pk}): {len(result.locks_changed)} locks' access lines and "
                f"{len(result.users_changed)} of {result.users_checked} access maps changed "
                f"in {time.perf_counter() - started:.2f}s"
            )
