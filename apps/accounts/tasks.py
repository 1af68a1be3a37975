"""Celery entry points for accounts: the work a request must not do itself, because how long
it takes would tell whether an email address has an account (docs/API.md "Authentication")."""

from celery import shared_task

from apps.accounts import services


@shared_task(time_limit=60)
def sign_in_code_send(email: str) -> None:
    """Mail a sign-in code if `email` is an active user's; otherwise do nothing."""

    services.sign_in_code_send(email=email)


@shared_task(time_limit=60)
def email_change_code_send(user_id: str, email: str) -> None:
    """Mail the code confirming `email` as the person's new sign-in email, or, when the address
    is another account's, a notice to its owner."""

    services.email_change_code_send(user_id=user_id, email=email)


@shared_task(time_limit=60)
def email_changed_notice(user_id: str, previous_email: str) -> None:
    """Tell the previous address that the person's sign-in email was changed."""

    services.email_changed_notice(user_id=user_id, previous_email=previous_email)
