"""Device test helpers: provision a phone through the real service, keeping its private keys."""

from apps.core.actors import SYSTEM
from apps.devices import services
from tests.devices.phone import Phone


def device_provision(user, *, phone: Phone | None = None, display_name: str = "Alice's phone", device_type="iOS"):
    """(device, phone): a provisioned device whose key pairs the returned Phone holds."""
    phone = phone or Phone.generate()
    device = services.user_device_provision(
        user=user,
        device_type=device_type,
        make_model="iPhone 15",
        display_name=display_name,
        access_public_key=phone.access.public,
        sync_public_key=phone.sync.public,
        seal_public_key=phone.seal.public,
        actor=SYSTEM,
    )
    phone.user_id, phone.user_device_id = str(user.pk), str(device.pk)
    return device, phone
