from django.core.management.base import BaseCommand

from apps.firmware import signing
from apps.firmware.services import signing_key


class Command(BaseCommand):
    help = "Print the firmware signing key's id and public key (for lock manufacturing; docs/FIRMWARE.md)."

    def handle(self, *args, **options):
        key = signing_key()
        self.stdout.write(f"keyId:     {key.key_id}")
        self.stdout.write(f"algorithm: {signing.ALGORITHM}")
        self.stdout.write(f"publicKey: {signing.b64encode(key.public)} (base64)")
        self.stdout.write(f"publicKey: {key.public.hex()} (hex)")
