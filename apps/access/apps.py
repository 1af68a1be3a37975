from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "apps.access"
    label = "access"
    verbose_name = "Access: groups, schedules, grants and derived access"

    def ready(self):
        from apps.access import handlers

        handlers.register()
