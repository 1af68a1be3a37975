from django.apps import AppConfig


class FirmwareConfig(AppConfig):
    name = "apps.firmware"
    label = "firmware"
    verbose_name = "Firmware"
