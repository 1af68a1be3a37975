from uuid import UUID

from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services
from apps.accounts.choices import PermissionGrantPermission
from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError
from apps.core.principal import Grant


def parse_grant(text: str) -> Grant:
    """`owner`, `owner:property=<uuid>`, `support:user=<uuid>` (`me` is never granted)."""
    permission, _, scope = text.partition(":")
    if permission not in PermissionGrantPermission.values:
        raise CommandError(f"unknown permission {permission!r}; one of {', '.join(PermissionGrantPermission.values)}")
    property_id = user_id = None
    for part in filter(None, scope.split(",")):
        name, _, value = part.partition("=")
        try:
            if name == "property":
                property_id = UUID(value)
            elif name == "user":
                user_id = UUID(value)
            else:
                raise ValueError
        except ValueError:
            raise CommandError(f"bad scope {part!r}; use property=<uuid> or user=<uuid>") from None
    return Grant(permission, property_id, user_id)


class Command(BaseCommand):
    help = "Create an API key and print its secret once. Example: apikey_create 'CI' --permission owner"

    def add_arguments(self, parser):
        parser.add_argument("display_name")
        parser.add_argument(
            "--permission",
            action="append",
            required=True,
            help="owner | owner:property=<uuid> | support:user=<uuid> ... (repeatable)",
        )

    def handle(self, *args, display_name, permission, **options):
        grants = [parse_grant(text) for text in permission]
        try:
            api_key, secret = services.api_key_create(display_name=display_name, grants=grants, actor=SYSTEM)
        except ApplicationError as refusal:
            reasons = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in refusal.fields.items())
            raise CommandError(reasons or refusal.message) from None
        self.stdout.write(f"apiKeyId: {api_key.pk}")
        self.stdout.write(f"secret:   {secret}   (shown once)")
