import importlib
import importlib.util

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from apps.integrations import attention

        attention.register()  # the dashboard's needs-attention items (apps.core.attention)
        from apps.integrations.lockt import person_panel

        person_panel.register()  # Lockt credentials on the person page (apps.core.person_panels)
        from apps.events.registry import event_names_register
        from apps.integrations.choices import IntegrationAccountKind

        event_names_register(
            "integration_account.created",
            "integration_account.updated",
            "integration_account.deleted",
            "integration_account.poll_requested",
            "sync_run.started",
            "sync_run.finished",
            "lockt_record.linked",
            "lockt_record.batch_linked",
            "lockt_record.failed",
            "lockt_record.unlinked",
            "lockt_events.imported",
            "lockt_credential.updated",
            "lockt_credential.batch_created",
            "lockt_credential.removed",
            "lockt_fob.reassigned",
            "lockt_fob.pushed",
            "lockt_mark.set",
            "lockt_mark.cleared",
            "lockt_mark.pushed",
            "lockt_mark.failed",
            "lockt_mark.removed",
            "parqex_door.linked",
            "parqex_door.updated",
            "parqex_door.missing",
            "parqex_door.failed",
            "smartphonekey_compat.applied",
            "smartphonekey_push.queued",
            "smartphonekey_push.pushed",
            "smartphonekey_push.failed",
        )
        from apps.integrations import selectors, services
        from apps.keys.holders import WrappedSecretHolder, wrapped_secret_holder_register

        wrapped_secret_holder_register(
            WrappedSecretHolder(
                name="integration credentials",
                remaining_by_kek=selectors.integration_credentials_remaining_by_kek,
                rewrap=services.integration_credentials_rewrap,
            )
        )
        # Each vendor package registers itself (apps.integrations.registry) from its `vendor`
        # module, so a new vendor plugs in by adding apps/integrations/<kind>/vendor.py.
        for kind in IntegrationAccountKind.values:
            package = f"apps.integrations.{kind}"
            if importlib.util.find_spec(package) and importlib.util.find_spec(f"{package}.vendor"):
                importlib.import_module(f"{package}.vendor")
