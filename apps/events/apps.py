from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    verbose_name = "Events"

    def ready(self):
        from apps.events import attention

        attention.register()  # the dashboard's needs-attention items (apps.core.attention)
