from django.apps import AppConfig


class LocktEmulatorConfig(AppConfig):
    name = "apps.integrations.lockt.emulator"
    label = "lockt_emulator"
    verbose_name = "Lockt SecureAccess emulator"
    default_auto_field = "django.db.models.BigAutoField"
