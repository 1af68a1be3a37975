from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "apps.access"
    label = "access"
    verbose_name = "Access: groups, schedules, grants and derived access"

    def ready(self):
        from apps.access import attention

        attention.register()  # the dashboard's needs-attention items (apps.core.attention)
        from apps.events.registry import event_names_register

        event_names_register(
            "group.created",
            "group.updated",
            "group.deleted",
            "group.member_added",
            "group.member_removed",
            "group.member_window_set",
            "group.members_added",
            "group.members_removed",
            "schedule.created",
            "schedule.updated",
            "schedule.deleted",
            "grant.created",
            "grant.revoked",
            "grant.expired",
            "block.created",
            "block.deleted",
        )
        from apps.access import handlers, selectors
        from apps.accounts.selectors import member_property_ids

        handlers.register()
        member_property_ids.provide(selectors.member_property_ids)
