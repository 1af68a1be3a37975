"""Signing in: e-mailed codes, e-mail changes, user tokens. Every write is one transaction with its event."""

import logging
import secrets
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.accounts.choices import SignInCodePurpose
from apps.accounts.credentials import (
    USER_TOKEN_KIND,
    current_pepper_id,
    secret_digest,
    secret_generate,
    secret_matches,
)
from apps.accounts.models import SignInCode, User, UserToken
from apps.accounts.services.users import user_update
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError
from apps.events.services import event_append

logger = logging.getLogger("keyhouse.accounts")


class InvalidCredentials(ApplicationError):
    status = 401


# Which property ids name a live property is apps.properties' to say, a floor up; it provides
# this port in its ready().


def _enqueue(task, *args) -> None:
    """Hand a mail task to Celery; a down broker is logged (the person can simply ask again)."""
    try:
        task.delay(*args)
    except Exception:  # noqa: BLE001 - broker (or, eager, mail) errors vary; the answer is already given
        logger.warning("could not enqueue or run %s", task.name, exc_info=True)


def sign_in_code_request(*, email: str) -> None:
    """The request half of requestSignInCode: the same work, so the same time, for every email.
    Whether the email has an account is found out on the worker (tasks.sign_in_code_send),
    enqueued after commit whatever the email."""
    from apps.accounts import tasks  # local: its tasks module imports this one (Celery calls the services)

    transaction.on_commit(partial(_enqueue, tasks.sign_in_code_send, email))


def _code_secret(user: User, code: str, email: str) -> str:
    # an email-change code is bound to the address it was sent to
    return f"{user.pk}:{email}:{code}" if email else f"{user.pk}:{code}"


def _code_issue(user: User, purpose: str, email: str = "") -> str:
    """A new one-time code for `purpose`, replacing the person's unused ones of that purpose.
    Returns the code: it exists only here and in the mail."""
    code = f"{secrets.randbelow(10**6):06d}"
    pepper_id = current_pepper_id()
    with transaction.atomic():
        SignInCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=timezone.now())
        SignInCode.objects.create(
            user=user,
            purpose=purpose,
            email=email,
            digest=secret_digest(_code_secret(user, code, email), pepper_id),
            pepper_id=pepper_id,
            expires_at=timezone.now() + timedelta(seconds=settings.KEYHOUSE_SIGN_IN_CODE_TTL_SECONDS),
        )
    return code


def sign_in_code_send(*, email: str) -> None:
    """Email a 6-digit one-time code to an active user. Unknown emails get the same silence."""
    user = User.objects.alive().filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        return
    code = _code_issue(user, SignInCodePurpose.SIGN_IN)
    minutes = settings.KEYHOUSE_SIGN_IN_CODE_TTL_SECONDS // 60
    send_mail(
        "Your Keyhouse sign-in code",
        f"Your sign-in code is {code}. It expires in {minutes} minutes.",
        None,
        [user.email],
    )


def _code_valid(user: User, code: str, purpose: str = SignInCodePurpose.SIGN_IN, email: str = "") -> bool:
    """Use up the person's current code of `purpose` if `code` is it; else count a wrong guess.
    Call inside a transaction (the row is locked)."""
    sent = (
        SignInCode.objects.select_for_update()
        .filter(user=user, purpose=purpose, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-id")
        .first()
    )
    if sent is None or sent.attempts >= settings.KEYHOUSE_SIGN_IN_CODE_MAX_ATTEMPTS:
        return False
    if secret_matches(_code_secret(user, code, email), sent.digest, sent.pepper_id):
        sent.used_at = timezone.now()
        sent.save(update_fields=["used_at"])
        return True
    sent.attempts += 1
    sent.save(update_fields=["attempts"])
    return False


def email_normalized(email: str) -> str:
    """How emails are stored: trimmed, lower-case (they are compared case-insensitively)."""
    return User.objects.normalize_email(email.strip()).lower()


def email_change_request(*, user_id, email: str) -> None:
    """The request half of requestEmailChange: the same work, so the same time, whether the
    address is free or taken. Everything else happens on the worker (email_change_code_send)."""
    from apps.accounts import tasks  # local: its tasks module imports this one (Celery calls the services)

    transaction.on_commit(partial(_enqueue, tasks.email_change_code_send, str(user_id), email))


def email_change_code_send(*, user_id, email: str) -> None:
    """Mail a code to `email` that makes it the person's sign-in email (confirmEmailChange).
    When the address is another account's, no code: its owner is told someone asked for it.
    Their own current address, or a person no longer active: nothing."""
    user = User.objects.alive().filter(pk=user_id, is_active=True).first()
    email = email_normalized(email)
    if user is None or email == user.email:
        return
    owner = User.objects.filter(email__iexact=email).first()
    if owner is not None:
        if owner.type_state != EntityTypeState.DELETED:
            send_mail(
                "Someone asked to use your email for another Keyhouse account",
                f"Someone asked to use {owner.email} as the sign-in email of another Keyhouse account. "
                "It stays yours and nothing was changed. If it wasn't you, ignore this email.",
                None,
                [owner.email],
            )
        return
    code = _code_issue(user, SignInCodePurpose.EMAIL_CHANGE, email=email)
    minutes = settings.KEYHOUSE_SIGN_IN_CODE_TTL_SECONDS // 60
    send_mail(
        "Confirm your new Keyhouse sign-in email",
        f"Your code is {code}. Enter it in the Keyhouse app to sign in with {email} from now on. "
        f"It expires in {minutes} minutes. If you did not ask for this, ignore this email.",
        None,
        [email],
    )


def email_change_confirm(*, user: User, email: str, code: str, actor: str) -> User:
    """Make `email` the person's sign-in email if `code` is the one mailed to it (event
    `user.updated`, in the transaction that uses the code up), and tell the previous address.
    A wrong code is a 400 naming `code`, and stays counted against the code's attempts."""
    from apps.accounts import tasks  # local: its tasks module imports this one (Celery calls the services)

    email = email_normalized(email)
    previous = user.email
    with transaction.atomic():
        valid = _code_valid(user, code, SignInCodePurpose.EMAIL_CHANGE, email=email)
        if valid:
            # Taken since the code was sent: full_clean refuses, and the code is not used up.
            user = user_update(user=user, actor=actor, email=email)
            transaction.on_commit(partial(_enqueue, tasks.email_changed_notice, str(user.pk), previous))
    if not valid:
        raise ApplicationError(
            "invalid or expired code", fields={"code": ["Invalid or expired code for this email; ask for a new one."]}
        )
    return user


def email_changed_notice(*, user_id, previous_email: str) -> None:
    """Tell the previous address that the account's sign-in email changed: if it was not the
    person (a stolen token, an unlocked phone), the real owner learns it at once."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or user.email == previous_email:
        return
    send_mail(
        "Your Keyhouse sign-in email was changed",
        "The sign-in email of your Keyhouse account was changed from this address to another one. "
        "If it wasn't you, contact your property manager or Keyhouse support at once.",
        None,
        [previous_email],
    )


def user_token_create(*, email: str, password: str | None = None, code: str | None = None) -> tuple[UserToken, str]:
    """Sign in with password or one-time code (event `auth_token.created`). Returns (token, secret)."""
    user = User.objects.alive().filter(email__iexact=email.strip(), is_active=True).first()
    with transaction.atomic():
        if password is not None:
            if user is None:
                User().set_password(password)  # same hashing cost for unknown emails (timing)
            valid = user is not None and user.check_password(password)
        else:
            valid = user is not None and _code_valid(user, code or "")
    if not valid:
        # Outside the block above: a failed code attempt must stay counted.
        raise InvalidCredentials("invalid email or credentials")
    with transaction.atomic():
        parsed = secret_generate(USER_TOKEN_KIND)
        pepper_id = current_pepper_id()
        token = UserToken.objects.create(
            user=user,
            prefix=parsed.prefix,
            digest=secret_digest(parsed.secret, pepper_id),
            pepper_id=pepper_id,
            expires_at=timezone.now() + timedelta(seconds=settings.KEYHOUSE_USER_TOKEN_TTL_SECONDS),
        )
        event_append(
            event_name="auth_token.created",
            actor=f"user:{user.pk}",
            user_id=user.pk,
            payload={"method": "password" if password is not None else "code"},
        )
    return token, parsed.secret


@transaction.atomic
def user_token_revoke(*, token: UserToken) -> UserToken:
    """Sign out: the token stops working at once (event `auth_token.revoked`)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        event_append(event_name="auth_token.revoked", actor=f"user:{token.user_id}", user_id=token.user_id)
    return token
