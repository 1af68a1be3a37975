from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "apps.portal"
    label = "portal"
    verbose_name = "Resident portal"

    def ready(self):
        from apps.events.registry import event_names_register

        event_names_register(
            "unit_token.created",
            "unit_token.rotated",
            "unit_user.created",
            "unit_user.updated",
            "unit_user.passphrase_changed",
            "unit_user.blocked",
            "unit_user.unblocked",
            "unit_user.guest_ended",
            "unit_user.removed",
            "portal_settings.updated",
        )
        from apps.portal import handlers

        handlers.register()
        from apps.accounts.credentials import credential_kind_register
        from apps.portal import selectors
        from apps.portal.models import UNIT_TOKEN_KIND

        credential_kind_register(
            UNIT_TOKEN_KIND, find=selectors.unit_token_find, principal=selectors.principal_for_unit
        )
