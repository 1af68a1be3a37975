"""Writes for identities and credentials, by concern; callers import them from here."""

from apps.accounts.services.api_keys import (
    api_key_create,
    api_key_revoke,
    api_key_update,
    credential_rehash,
    credential_touch,
)
from apps.accounts.services.grants import _grants_replace, grants_refusals, live_property_ids
from apps.accounts.services.sign_in import (
    InvalidCredentials,
    email_change_code_send,
    email_change_confirm,
    email_change_request,
    email_changed_notice,
    email_normalized,
    sign_in_code_request,
    sign_in_code_send,
    user_token_create,
    user_token_revoke,
)
from apps.accounts.services.users import (
    USER_UPDATABLE,
    user_create,
    user_delete,
    user_external_id_set,
    user_update,
    users_create,
)

__all__ = [
    "USER_UPDATABLE",
    "InvalidCredentials",
    "_grants_replace",
    "api_key_create",
    "api_key_revoke",
    "api_key_update",
    "credential_rehash",
    "credential_touch",
    "email_change_code_send",
    "email_change_confirm",
    "email_change_request",
    "email_changed_notice",
    "email_normalized",
    "grants_refusals",
    "live_property_ids",
    "sign_in_code_request",
    "sign_in_code_send",
    "user_create",
    "user_delete",
    "user_external_id_set",
    "user_token_create",
    "user_token_revoke",
    "user_update",
    "users_create",
]
