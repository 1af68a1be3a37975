"""Writes of the devices app (HackSoft "Modules"):

- `devices`: provision, update, deprovision a person's phones (each with its event).
- `sync`: syncUserDevice (verify, record, answer with the stored sealed map).
- `maps`: device maps built and sealed once per (device, version) by a worker.
"""

from apps.devices.services.devices import (
    user_device_deprovision,
    user_device_provision,
    user_device_update,
    user_devices_deprovision,
)
from apps.devices.services.maps import (
    device_map_build,
    device_maps_build,
    device_maps_build_pending,
    device_maps_pending,
    device_maps_rebuild,
    device_maps_request,
)
from apps.devices.services.sync import SyncResult, user_device_sync

__all__ = [
    "SyncResult",
    "device_map_build",
    "device_maps_build",
    "device_maps_build_pending",
    "device_maps_pending",
    "device_maps_rebuild",
    "device_maps_request",
    "user_device_deprovision",
    "user_device_provision",
    "user_device_sync",
    "user_device_update",
    "user_devices_deprovision",
]
