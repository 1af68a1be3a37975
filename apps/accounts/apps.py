from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Users and API access"

    def ready(self):
        from apps.events.registry import event_names_register

        event_names_register(
            "user.created",
            "user.updated",
            "user.deleted",
            "api_key.created",
            "api_key.updated",
            "api_key.revoked",
            "auth_token.created",
            "auth_token.revoked",
        )
        from apps.accounts import (
            credential_cache,
            schema,  # noqa: F401 - registers the OpenAPI auth extension
            selectors,
        )
        from apps.accounts.credentials import API_KEY_KIND, USER_TOKEN_KIND, credential_kind_register

        credential_kind_register(
            API_KEY_KIND, find=selectors.api_key_find, principal=selectors.principal_for_api_key, cacheable=True
        )
        credential_kind_register(
            USER_TOKEN_KIND, find=selectors.user_token_find, principal=selectors.principal_for_user_token
        )
        from apps.core.versions import version_counter_register

        version_counter_register(credential_cache.COUNTER, credential_cache.TABLE)
