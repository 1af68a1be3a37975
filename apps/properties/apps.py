from django.apps import AppConfig


class PropertiesConfig(AppConfig):
    name = "apps.properties"
    label = "properties"
    verbose_name = "Properties"

    def ready(self):
        from apps.accounts.services import live_property_ids
        from apps.properties import selectors

        live_property_ids.provide(selectors.live_property_ids)
