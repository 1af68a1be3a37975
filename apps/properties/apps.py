from django.apps import AppConfig


class PropertiesConfig(AppConfig):
    name = "apps.properties"
    label = "properties"
    verbose_name = "Properties"

    def ready(self):
        from apps.events.registry import event_names_register

        event_names_register(
            "property.created",
            "property.updated",
            "property.deleted",
        )
        from apps.accounts.services import live_property_ids
        from apps.properties import selectors

        live_property_ids.provide(selectors.live_property_ids)
