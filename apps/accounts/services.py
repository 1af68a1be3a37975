"""Writes for identities and credentials. Every function is one transaction with its event."""

import logging
import secrets
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.accounts.choices import SignInCodePurpose
from apps.accounts.credentials import (
    API_KEY_KIND,
    USER_TOKEN_KIND,
    current_pepper_id,
    secret_digest,
    secret_generate,
    secret_matches,
)
from apps.accounts.models import ApiKey, PermissionGrant, SignInCode, User, UserToken
from apps.core.choices import EntityTypeState, ExternalRefSyncDirection
from apps.core.exceptions import ApplicationError
from apps.core.models import ExternalRef
from apps.core.operations import ME
from apps.core.ports import Port
from apps.core.principal import Grant
from apps.events.services import event_append, events_append

logger = logging.getLogger("keyhouse.accounts")


class InvalidCredentials(ApplicationError):
    status = 401


# Which property ids name a live property is apps.properties' to say, a floor up; it provides
# this port in its ready().
live_property_ids = Port("accounts.live_property_ids", "property ids → the set of those naming a live property")


def grants_refusals(grants: list[Grant]) -> dict[tuple[int, str], str]:
    """Why each grant cannot be held, keyed by (index, UserPermission member): `me` (implicit
    for every person, never granted: a credential holding it for someone acts as them), and a
    `propertyId` or `userId` naming no live property or user. The API and the admin show these
    on the offending row; grants_replace refuses them."""
    property_ids = {g.property_id for g in grants if g.property_id}
    user_ids = {g.user_id for g in grants if g.user_id}
    live_properties = live_property_ids(property_ids) if property_ids else set()
    live_users = set(User.objects.alive().filter(pk__in=user_ids).values_list("pk", flat=True))
    refusals = {}
    for index, grant in enumerate(grants):
        if grant.permission == ME:
            refusals[index, "permission"] = "`me` is implicit for every user and cannot be granted."
        if grant.property_id and grant.property_id not in live_properties:
            refusals[index, "propertyId"] = "No such property."
        if grant.user_id and grant.user_id not in live_users:
            refusals[index, "userId"] = "No such user."
    return refusals


def _grants_replace(*, holder: dict, grants: list[Grant], field: str) -> None:
    """Replace the holder's grants; 400 naming `field[i].member` for any grant_refusals."""
    refusals = grants_refusals(grants)
    if refusals:
        raise ApplicationError(
            "invalid permissions",
            fields={f"{field}[{index}].{member}": [reason] for (index, member), reason in refusals.items()},
        )
    PermissionGrant.objects.filter(**holder).delete()
    rows = [
        PermissionGrant(permission=g.permission, property_id=g.property_id, scope_user_id=g.user_id, **holder)
        for g in dict.fromkeys(grants)  # drop exact duplicates, keep order
    ]
    for row in rows:
        row.full_clean()
    PermissionGrant.objects.bulk_create(rows)


@transaction.atomic
def user_create(
    *,
    email: str,
    display_name: str,
    actor: str,
    password: str | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
    grants: list[Grant] | None = None,
    **fields,
) -> User:
    """Create a user (event `user.created`); without a password the user signs in by code.
    `grants` are the spec's userPermissions."""
    user = User(
        **({"id": fields.pop("user_id")} if fields.get("user_id") else {}),
        email=User.objects.normalize_email(email).lower(),
        display_name=display_name,
        is_staff=is_staff,
        is_superuser=is_superuser,
        last_modified_by=actor,
        **fields,
    )
    user.set_password(password)  # None → unusable password
    user.full_clean()
    user.save()
    if grants:
        _grants_replace(holder={"user": user}, grants=grants, field="userPermissions")
    event_append(event_name="user.created", actor=actor, user_id=user.id, payload={"isStaff": is_staff})
    return user


def _taken(message: str, field: str, values) -> ApplicationError:
    listed = ", ".join(sorted(values)[:5])
    return ApplicationError(f"{field}: {message}: {listed}", fields={field: [f"{message}: {listed}"]})


@transaction.atomic
def users_create(*, people: list[dict], actor: str, external_source: str = "") -> list[User]:
    """Create many people in one write (the batch variant of `user_create` + `user_external_id_set`
    that bulk imports use): each dict is `email`, `display_name`, optional `first_name`,
    `last_name`, `phone_number` and `external_id` (linked under `external_source`). Each person is
    checked as `user_create` checks one (normalized email, `full_clean`), emails and external ids
    already taken (or twice in the batch) are refused in one query each, and the rows go in as
    one INSERT per table. One `user.created` event each (payload `externalRefs` naming the
    source when an id was linked: the link is part of the creation, not a later update). No
    password: they sign in by code."""
    users, refs = [], []
    for person in people:
        fields = dict(person)
        external_id = fields.pop("external_id", "") or ""
        user = User(email=User.objects.normalize_email(fields.pop("email")).lower(), last_modified_by=actor, **fields)
        user.set_unusable_password()
        user.full_clean(validate_unique=False)
        users.append(user)
        if external_id:
            refs.append((user, external_id))
    emails = [u.email for u in users]
    taken = {e for e, n in Counter(emails).items() if n > 1}
    taken |= set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    if taken:
        raise _taken("already used by another person", "email", taken)
    if refs:
        if not external_source:
            raise ValueError("users_create: external ids need an external_source")
        user_type = ContentType.objects.get_for_model(User)
        ids = [external_id for _, external_id in refs]
        taken = {i for i, n in Counter(ids).items() if n > 1} | set(
            ExternalRef.objects.filter(
                content_type=user_type, source=external_source, account_id__isnull=True, external_id__in=ids
            ).values_list("external_id", flat=True)
        )
        if taken:
            raise _taken(f"another person's id in {external_source}", "externalId", taken)
    User.objects.bulk_create(users, batch_size=500)
    if refs:
        rows = []
        for user, external_id in refs:
            ref = ExternalRef(
                content_type=user_type,
                object_id=user.pk,
                source=external_source,
                external_id=external_id,
                sync_direction=ExternalRefSyncDirection.FROM_EXTERNAL_TO_INTERNAL,
            )
            ref.full_clean(exclude=["content_type"], validate_unique=False, validate_constraints=False)
            rows.append(ref)
        ExternalRef.objects.bulk_create(rows, batch_size=500)
    linked = {user.pk for user, _ in refs}
    events_append(
        events=[
            {
                "event_name": "user.created",
                "user_id": u.pk,
                "payload": {"isStaff": False, **({"externalRefs": [external_source]} if u.pk in linked else {})},
            }
            for u in users
        ],
        actor=actor,
    )
    return users


USER_UPDATABLE = ("display_name", "first_name", "last_name", "phone_number", "billing_address", "is_active", "is_staff")


@transaction.atomic
def user_update(*, user: User, actor: str, grants: list[Grant] | None = None, **fields) -> User:
    """Change a user's fields and, when given, replace their grants (event `user.updated`)."""
    unknown = set(fields) - set(USER_UPDATABLE) - {"email"}
    if unknown:
        raise ValueError(f"user_update cannot change {sorted(unknown)}")
    user = User.objects.select_for_update().get(pk=user.pk)
    if "email" in fields:
        fields["email"] = User.objects.normalize_email(fields["email"]).lower()
    changed = sorted(name for name, value in fields.items() if getattr(user, name) != value)
    for name in changed:
        setattr(user, name, fields[name])
    if grants is not None:
        current = [Grant(g.permission, g.property_id, g.scope_user_id) for g in user.grants.all()]
        if sorted(map(repr, current)) != sorted(map(repr, dict.fromkeys(grants))):
            _grants_replace(holder={"user": user}, grants=grants, field="userPermissions")
            changed.append("userPermissions")
    if changed:
        user.last_modified_by = actor
        user.full_clean()
        user.save()
        event_append(event_name="user.updated", actor=actor, user_id=user.id, payload={"changed": changed})
    return user


@transaction.atomic
def user_external_id_set(*, user: User, source: str, external_id: str, actor: str) -> bool:
    """Link a person to their record in an external system (spec ExternalRef; one per source),
    replacing an earlier id from that source (event `user.updated`, changed `externalRefs`).
    Imports match people by it. Returns False when it was already so."""
    user_type = ContentType.objects.get_for_model(User)
    current = ExternalRef.objects.filter(content_type=user_type, object_id=user.pk, source=source).first()
    if current is not None and current.external_id == external_id:
        return False
    taken = ExternalRef.objects.filter(content_type=user_type, source=source, external_id=external_id)
    if taken.exclude(object_id=user.pk).exists():
        message = f"{external_id!r} is another person's id in {source}."
        raise ApplicationError(f"externalId: {message}", fields={"externalId": [message]})
    ref = current or ExternalRef(
        content_type=user_type,
        object_id=user.pk,
        source=source,
        sync_direction=ExternalRefSyncDirection.FROM_EXTERNAL_TO_INTERNAL,
    )
    ref.external_id = external_id
    ref.full_clean()
    ref.save()
    event_append(event_name="user.updated", actor=actor, user_id=user.pk, payload={"changed": ["externalRefs"]})
    return True


@transaction.atomic
def user_delete(
    *,
    user: User,
    actor: str,
    cascade: Callable[[User], None] | None = None,
) -> User:
    """Soft-delete a person (event `user.deleted`): grants and sign-in tokens gone, email freed
    for reuse. `cascade(user)` runs first, in this transaction, and may refuse (409) or remove
    what goes with the person: access.services.user_delete passes one (the properties they own
    refuse it; they leave their groups and the properties they manage). Call that one."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if cascade is not None:
        cascade(user)
    PermissionGrant.objects.filter(user=user).delete()
    UserToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.is_active = False
    user.set_unusable_password()
    user.type_state = EntityTypeState.DELETED
    user.last_modified_by = actor
    user.save()
    event_append(event_name="user.deleted", actor=actor, user_id=user.pk)
    return user


@transaction.atomic
def api_key_create(*, display_name: str, grants: list[Grant], actor: str, api_key_id=None) -> tuple[ApiKey, str]:
    """Create an API key and its grants (event `api_key.created`). Returns (key, secret):
    the secret exists only in this return value. `api_key_id` lets the admin keep its id."""
    parsed = secret_generate(API_KEY_KIND)
    pepper_id = current_pepper_id()
    api_key = ApiKey(
        **({"id": api_key_id} if api_key_id else {}),
        display_name=display_name,
        prefix=parsed.prefix,
        digest=secret_digest(parsed.secret, pepper_id),
        pepper_id=pepper_id,
        last_modified_by=actor,
    )
    api_key.full_clean()
    api_key.save()
    _grants_replace(holder={"api_key": api_key}, grants=grants, field="apiPermissions")
    event_append(
        event_name="api_key.created",
        actor=actor,
        api_key_id=api_key.id,
        payload={"displayName": display_name, "permissions": [g.permission for g in grants]},
    )
    return api_key, parsed.secret


@transaction.atomic
def api_key_update(*, api_key: ApiKey, display_name: str, grants: list[Grant], actor: str) -> ApiKey:
    """Rename a key and replace its grants (event `api_key.updated`)."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    api_key.display_name = display_name
    api_key.last_modified_by = actor
    api_key.full_clean()
    api_key.save()
    _grants_replace(holder={"api_key": api_key}, grants=grants, field="apiPermissions")
    event_append(
        event_name="api_key.updated",
        actor=actor,
        api_key_id=api_key.id,
        payload={"displayName": display_name, "permissions": [g.permission for g in grants]},
    )
    return api_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: str) -> ApiKey:
    """Revoke an API key for good (event `api_key.revoked`); repeating it changes nothing."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        return api_key
    api_key.revoked_at = timezone.now()
    api_key.type_state = EntityTypeState.DELETED
    api_key.last_modified_by = actor
    api_key.save(update_fields=["revoked_at", "type_state", "last_modified_by", "last_modified_at"])
    event_append(event_name="api_key.revoked", actor=actor, api_key_id=api_key.id)
    return api_key


def credential_touch(credential) -> None:
    """Record use (`lastUsedAt`) at most once a minute, and re-hash under the current pepper."""
    now = timezone.now()
    updates = {}
    if credential.last_used_at is None or now - credential.last_used_at > timedelta(seconds=60):
        updates["last_used_at"] = now
    if updates:
        type(credential).objects.filter(pk=credential.pk).update(**updates)
        for name, value in updates.items():
            setattr(credential, name, value)


def credential_rehash(credential, secret: str) -> None:
    """Move a credential to the current pepper after it verified under an older one."""
    pepper_id = current_pepper_id()
    if credential.pepper_id != pepper_id:
        type(credential).objects.filter(pk=credential.pk).update(
            digest=secret_digest(secret, pepper_id), pepper_id=pepper_id
        )


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
