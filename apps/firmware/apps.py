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
