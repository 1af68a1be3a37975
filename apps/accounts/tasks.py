"""Celery entry points for accounts: the work a request must not do itself, because how long
it takes would tell whether an email address has an account (docs/API.md "Authentication")."""

from celery import shared_task


@shared_task(time_limit=60)
def sign_in_code_send(email: str) -> None:
    """Mail a sign-in code if `email` is an active user's; otherwise do nothing."""
    from apps.accounts import services

    services.sign_in_code_send(email=email)
