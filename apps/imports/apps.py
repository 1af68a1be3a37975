from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "apps.imports"
    label = "imports"
    verbose_name = "Imports and exports"

    def ready(self):
        from apps.imports import attention

        attention.register()  # the dashboard's needs-attention items (apps.core.attention)
        from apps.events.registry import event_names_register

        event_names_register(
            "import.created",
            "import.validated",
            "import.applied",
            "import.failed",
            "import.cancelled",
        )
