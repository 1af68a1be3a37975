"""Reads for identities: credential lookup (authentication) and key listings."""

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from apps.accounts.credentials import API_KEY_KIND, USER_TOKEN_KIND, secret_matches, secret_parse
from apps.accounts.models import ApiKey, PermissionGrant, User, UserToken
from apps.core.api.operations import ME
from apps.core.api.principal import ALL, Grant, Principal
from apps.locks.constants import LOCK_SECRET_KIND


def _grants(rows) -> tuple[Grant, ...]:
    """Stored grants as the principal holds them. A stored `me` is ignored: `me` is never
    granted (services.grants_refusals), only implied for a person's own sign-in."""
    return tuple(Grant(r.permission, r.property_id, r.scope_user_id) for r in rows if r.permission != ME)


def api_key_list() -> QuerySet[ApiKey]:
    """Keys that still work, with their grants."""
    return ApiKey.objects.alive().filter(revoked_at__isnull=True).prefetch_related("grants")


def principal_for_api_key(api_key: ApiKey) -> Principal:
    return Principal(kind="api_key", id=api_key.pk, grants=_grants(api_key.grants.all()), label=f"apiKey:{api_key.pk}")


def principal_for_user_token(token: UserToken) -> Principal:
    from apps.access.selectors import member_property_ids

    user = token.user
    grants = (Grant(ME, user_id=user.pk),) + _grants(user.grants.all())
    return Principal(
        kind="user",
        id=user.pk,
        grants=grants,
        label=f"user:{user.pk}",
        user_id=user.pk,
        member_properties=lambda: member_property_ids(user_id=user.pk),
    )


def credential_authenticate(secret: str):
    """(principal, credential) for a valid, unrevoked, unexpired secret; else None."""
    parsed = secret_parse(secret)
    if parsed is None:
        return None
    if parsed.kind == API_KEY_KIND:
        credential = (
            ApiKey.objects.filter(prefix=parsed.prefix, revoked_at__isnull=True)
            .prefetch_related(Prefetch("grants", queryset=PermissionGrant.objects.order_by("id")))
            .first()
        )
        build = principal_for_api_key
    elif parsed.kind == USER_TOKEN_KIND:
        credential = (
            UserToken.objects.filter(
                prefix=parsed.prefix, revoked_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True
            )
            .select_related("user")
            .prefetch_related("user__grants")
            .first()
        )
        if credential is not None and credential.user.type_state == "deleted":
            credential = None
        build = principal_for_user_token
    elif parsed.kind == LOCK_SECRET_KIND:  # a lock's own secret (docs/PROTOCOL.md §6.1)
        from apps.locks.selectors import lock_credential_find, principal_for_lock_credential

        credential = lock_credential_find(parsed.prefix)
        build = principal_for_lock_credential
    else:
        return None
    if credential is None or not secret_matches(parsed.secret, credential.digest, credential.pepper_id):
        return None
    return build(credential), credential


def user_list() -> QuerySet[User]:
    """Live users with what their serializer needs (grants, external refs) prefetched."""
    return User.objects.alive().prefetch_related(
        Prefetch("grants", queryset=PermissionGrant.objects.order_by("id")), "external_refs"
    )


def user_grants(*, user_id) -> list[Grant]:
    return list(_grants(PermissionGrant.objects.filter(user_id=user_id).order_by("id")))


def user_tied_outside(*, user_id, property_ids) -> bool:
    """True when the user is in a group of, holds a grant on, owns or manages a live property
    outside `property_ids`, or holds a grant on no property (which reaches every property)."""
    from apps.access.models import Membership
    from apps.properties.models import Property

    outside = Property.objects.alive().exclude(pk__in=property_ids)
    return (
        Membership.objects.filter(user_id=user_id, user_group__property__in=outside)
        .exclude(user_group__type_state="deleted")
        .exists()
        or PermissionGrant.objects.filter(user_id=user_id).exclude(property_id__in=property_ids).exists()
        or outside.filter(Q(owner_id=user_id) | Q(access_managers=user_id)).exists()
    )


def _reached_by(users: QuerySet[User], property_ids) -> QuerySet[User]:
    """Users a caller reaching `property_ids` may see: in one of their groups, holding a
    permission scoped to one, holding an unrevoked door-access grant or a block at one (a guest,
    someone a manager of that property shut out), owning or managing one."""
    if property_ids is ALL:
        return users
    return users.filter(
        Q(memberships__user_group__property_id__in=property_ids, memberships__user_group__type_state="active")
        | Q(grants__property_id__in=property_ids)
        | Q(access_grants__property_id__in=property_ids, access_grants__revoked_at__isnull=True)
        | Q(access_blocks__property_id__in=property_ids)
        | Q(owned_properties__in=property_ids)
        | Q(managed_properties__in=property_ids)
    ).distinct()


def user_visible(*, user_id, property_ids) -> User | None:
    """The live user, if a caller reaching `property_ids` may see them (ALL = anyone)."""
    return _reached_by(user_list().filter(pk=user_id), property_ids).first()


def user_ids_visible(*, user_ids, property_ids) -> set:
    """Which of `user_ids` are live users a caller reaching `property_ids` may see."""
    users = _reached_by(User.objects.alive().filter(pk__in=list(user_ids)), property_ids)
    return set(users.values_list("pk", flat=True))
