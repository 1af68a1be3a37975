import os
import secrets

from django.core.management.base import BaseCommand

from apps.accounts import services
from apps.accounts.models import User
from apps.core.actors import SYSTEM

ADMIN_EMAIL = "admin@keyhouse.local"


class Command(BaseCommand):
    help = "Create the staff admin user once (password from KEYHOUSE_ADMIN_PASSWORD, or generated and printed once)."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=os.environ.get("KEYHOUSE_ADMIN_EMAIL", ADMIN_EMAIL))

    def handle(self, *args, email, **options):
        wanted = os.environ.get("KEYHOUSE_ADMIN_PASSWORD")
        user = User.objects.filter(email=email).first()
        if user is not None:
            if wanted and not user.check_password(wanted):
                user.set_password(wanted)
                user.save(update_fields=["password"])
                self.stdout.write(f"Staff admin {email}: password set from KEYHOUSE_ADMIN_PASSWORD.")
            else:
                self.stdout.write(f"Staff admin {email} already exists (password unchanged).")
            return
        password = wanted or secrets.token_urlsafe(12)
        services.user_create(
            email=email,
            display_name="Keyhouse admin",
            password=password,
            is_staff=True,
            is_superuser=True,
            actor=SYSTEM,
        )
        shown = "(from KEYHOUSE_ADMIN_PASSWORD)" if wanted else password
        self.stdout.write(self.style.SUCCESS(f"Staff admin created: {email} / {shown}  (shown once)"))
