from django.apps import AppConfig


class KeysConfig(AppConfig):
    name = "apps.keys"
    label = "keys"
    verbose_name = "Keys"

    def ready(self):
        from apps.events.registry import event_names_register

        event_names_register(
            "key.generated",
            "key.registered",
            "key.rotated",
            "key.deactivated",
            "key.kek_rotated",
        )
        from apps.core.versions import version_counter_register
        from apps.keys import kept

        version_counter_register(kept.COUNTER, kept.TABLE)
