from django.apps import AppConfig


class LocksConfig(AppConfig):
    name = "apps.locks"
    label = "locks"
    verbose_name = "Locks"

    def ready(self):
        from apps.locks import handlers

        handlers.register()
