"""Demo identities: an app user and an owner API key (secret printed on first creation)."""

from apps.accounts import services
from apps.accounts.models import ApiKey, User
from apps.core.actors import SYSTEM
from apps.core.principal import Grant

DEMO_KEY_NAME = "Demo owner key"
DEMO_RESIDENT_EMAIL = "resident@keyhouse.local"


def seed_demo(stdout) -> None:
    if not User.objects.filter(email=DEMO_RESIDENT_EMAIL).exists():
        services.user_create(
            email=DEMO_RESIDENT_EMAIL,
            display_name="Riley Resident",
            first_name="Riley",
            last_name="Resident",
            password="resident-demo-pass",
            actor=SYSTEM,
        )
        stdout.write(f"Demo app user: {DEMO_RESIDENT_EMAIL} / resident-demo-pass")
    if not ApiKey.objects.filter(display_name=DEMO_KEY_NAME).exists():
        _, secret = services.api_key_create(display_name=DEMO_KEY_NAME, grants=[Grant("owner")], actor=SYSTEM)
        stdout.write(f"Demo API key (owner, all properties), shown once: {secret}")
