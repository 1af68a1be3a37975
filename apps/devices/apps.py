from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "apps.devices"
    label = "devices"
    verbose_name = "User devices"

    def ready(self):
        from apps.devices import handlers

        handlers.register()
