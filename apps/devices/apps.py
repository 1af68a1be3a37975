from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "apps.devices"
    label = "devices"
    verbose_name = "User devices"

    def ready(self):
        from apps.events.registry import event_names_register

        event_names_register(
            "device.provisioned",
            "device.updated",
            "device.deprovisioned",
        )
        from apps.devices import handlers

        handlers.register()
