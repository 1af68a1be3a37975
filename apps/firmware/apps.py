from django.apps import AppConfig


class FirmwareConfig(AppConfig):
    name = "apps.firmware"
    label = "firmware"
    verbose_name = "Firmware"

    def ready(self):
        from apps.events.registry import event_names_register

        event_names_register(
            "firmware.uploaded",
            "firmware.assigned",
            "firmware.unassigned",
        )
        from apps.core.versions import version_counter_register
        from apps.firmware import assignment_cache

        version_counter_register(assignment_cache.COUNTER, assignment_cache.TABLE)
