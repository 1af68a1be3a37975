"""Every write of the locks app (split by subdomain, HackSoft "Modules"):

- `locks`: provision, install, uninstall, rename, deprovision;
- `key_maps`: key-map requests, builds (signed once per version by a worker), the sweep;
- `sync`: syncLock (verify the lock's signed request, store logs and its ack, answer signed);
- `access_logs`: storing access logs, a syncing lock's (gaps tracked) and a remote system's.
"""

from apps.locks.services.access_logs import lock_access_logs_import
from apps.locks.services.health import lock_health_record, lock_health_stale_set, lock_health_sweep
from apps.locks.services.key_maps import (
    access_keys_for_users,
    key_maps_build,
    key_maps_build_part,
    key_maps_partition,
    key_maps_pending,
    key_maps_rebuild,
    key_maps_request,
    key_maps_sweep,
)
from apps.locks.services.locks import (
    ProvisionedLock,
    lock_activity_set,
    lock_create,
    lock_credential_create,
    lock_deprovision,
    lock_install,
    lock_provision,
    lock_uninstall,
    lock_update,
    locks_create_installed,
    public_key_decode,
)
from apps.locks.services.sync import SyncOutcome, lock_sync

__all__ = [
    "lock_access_logs_import",
    "lock_health_record",
    "lock_health_stale_set",
    "lock_health_sweep",
    "lock_activity_set",
    "ProvisionedLock",
    "SyncOutcome",
    "access_keys_for_users",
    "key_maps_build",
    "key_maps_build_part",
    "key_maps_partition",
    "key_maps_pending",
    "key_maps_rebuild",
    "key_maps_request",
    "key_maps_sweep",
    "lock_create",
    "lock_credential_create",
    "lock_deprovision",
    "lock_install",
    "lock_provision",
    "lock_sync",
    "lock_uninstall",
    "lock_update",
    "locks_create_installed",
    "public_key_decode",
]
