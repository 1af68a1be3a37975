from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "apps.access"
    label = "access"
    verbose_name = "Access: groups, schedules, grants and derived access"

    def ready(self):
        from apps.access import handlers, selectors
        from apps.accounts.selectors import member_property_ids

        handlers.register()
        member_property_ids.provide(selectors.member_property_ids)
