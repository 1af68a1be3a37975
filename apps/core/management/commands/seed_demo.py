"""Idempotent demo data. Each app contributes a `seed_demo(stdout)` function in its
`demo.py`; this command runs them in INSTALLED_APPS order, so later issues extend it."""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create demo data (safe to run again: existing rows are left as they are)."

    def handle(self, *args, **options):
        for config in apps.get_app_configs():
            if not config.name.startswith("apps."):
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed_demo(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
