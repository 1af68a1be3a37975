from django.apps import AppConfig


class LocksConfig(AppConfig):
    name = "apps.locks"
    label = "locks"
    verbose_name = "Locks"

    def ready(self):
        from apps.locks import attention

        attention.register()  # the dashboard's needs-attention items (apps.core.attention)
        from apps.events.registry import event_names_register

        event_names_register(
            "lock.provisioned",
            "lock.updated",
            "lock.installed",
            "lock.uninstalled",
            "lock.deprovisioned",
            "lock.synced",
            "lock.access_logs_imported",
            "lock.key_maps_signed",
            "lock.key_map_acknowledged",
            "lock.key_map_version_ahead",
            "lock.battery_low",
            "lock.battery_low_cleared",
            "lock.offline",
            "lock.offline_cleared",
            "lock.held_open",
            "lock.held_open_cleared",
            "lock.stale",
            "lock.stale_cleared",
        )
        from apps.access import doors
        from apps.accounts.credentials import credential_kind_register
        from apps.locks import handlers, selectors
        from apps.locks.constants import LOCK_SECRET_KIND

        handlers.register()
        credential_kind_register(
            LOCK_SECRET_KIND, find=selectors.lock_credential_find, principal=selectors.principal_for_lock_credential
        )
        doors.installed.provide(selectors.locks_installed)
        doors.names.provide(selectors.lock_names)
        doors.areas_and_kids.provide(selectors.lock_areas_and_kids)
