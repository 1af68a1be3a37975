from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "apps.areas"
    label = "areas"
    verbose_name = "Areas"

    def ready(self):
        from apps.events.registry import event_names_register

        event_names_register(
            "area.created",
            "area.updated",
            "area.moved",
            "area.deleted",
        )
