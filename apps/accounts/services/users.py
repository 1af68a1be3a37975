"""People: create (one or a batch), update, external ids, delete. Every write is one transaction with its event."""

import logging
from collections import Counter
from collections.abc import Callable

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import PermissionGrant, User, UserToken
from apps.accounts.services.grants import _grants_replace
from apps.core.choices import EntityTypeState, ExternalRefSyncDirection
from apps.core.exceptions import ApplicationError
from apps.core.models import ExternalRef
from apps.core.principal import Grant
from apps.events.services import event_append, events_append

logger = logging.getLogger("keyhouse.accounts")


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
