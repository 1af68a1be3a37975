"""Reads for identities: credential lookup (authentication) and key listings."""

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from apps.accounts.credential_cache import credential_cache_get, credential_cache_put, credential_version
from apps.accounts.credentials import credential_kind, secret_matches, secret_parse
from apps.accounts.models import ApiKey, PermissionGrant, User, UserToken
from apps.core.operations import ME
from apps.core.ports import Port
from apps.core.prepared import PreparedSelect
from apps.core.principal import Grant, LazyGrants, Principal


def _grants(rows) -> tuple[Grant, ...]:
    """Stored grants as the principal holds them. A stored `me` is ignored: `me` is never
    granted (services.grants_refusals), only implied for a person's own sign-in."""
    return tuple(Grant(r.permission, r.property_id, r.scope_user_id) for r in rows if r.permission != ME)


def api_key_list() -> QuerySet[ApiKey]:
    """Keys that still work (their grants: api_key_grant_rows, one query per page)."""
    return ApiKey.objects.alive().filter(revoked_at__isnull=True)


def api_key_grant_rows(api_keys) -> dict:
    """{key id: [(permission, property id, scoped user id), ...] in grant order} for a page of
    keys, in one query of bare values: a prefetch built a related manager and a
    PermissionGrant per row, most of a list api-keys request's ORM Python (issue 17)."""
    rows: dict = {key.pk: [] for key in api_keys}
    grants = (
        PermissionGrant.objects.filter(api_key_id__in=list(rows))
        .order_by("id")
        .values_list("api_key_id", "permission", "property_id", "scope_user_id")
    )
    for api_key_id, *grant in grants:
        rows[api_key_id].append(tuple(grant))
    return rows


def principal_for_api_key(api_key: ApiKey) -> Principal:
    grants = getattr(api_key, "found_grants", None)
    if grants is None:
        grants = _grants(api_key.grants.order_by("id"))
    return Principal(kind="api_key", id=api_key.pk, grants=grants, label=f"apiKey:{api_key.pk}")


# Which properties a person's `me` reaches (their groups and door grants) is apps.access's to
# say, a floor up; it provides this port in its ready().
member_property_ids = Port("accounts.member_property_ids", "user id → frozenset of the property ids `me` reaches")


def principal_for_user_token(token: UserToken) -> Principal:
    return principal_for_user(token.user)


def principal_for_user(user: User) -> Principal:
    """A person acting as themself, with their grants (a sign-in token's caller; the staff
    admin's managers when a page applies the API's policies). `me` first; the stored grants are
    read when a permission question gets past it (a person's own syncs and reads never do)."""
    return Principal(
        kind="user",
        id=user.pk,
        grants=LazyGrants((Grant(ME, user_id=user.pk),), lambda: _grants(user.grants.all())),
        label=f"user:{user.pk}",
        user_id=user.pk,
        member_properties=lambda: member_property_ids(user_id=user.pk),
    )


_FOUND_KEY_FIELDS = ("id", "prefix", "digest", "pepper_id", "last_used_at", "revoked_at")


def api_key_find(prefix: str) -> ApiKey | None:
    """The unrevoked key with this prefix and its grants, in one query (the grants LEFT JOINed,
    read as bare values): every API call authenticates, and a Prefetch of PermissionGrant rows
    cost a second query and more Python than the lookup itself. The key comes back with only
    what authentication needs loaded (the rest is deferred); its grants as `found_grants`."""
    rows = list(
        ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True)
        .order_by("grants__id")
        .values_list(*_FOUND_KEY_FIELDS, "grants__permission", "grants__property_id", "grants__scope_user_id")
    )
    if not rows:
        return None
    width = len(_FOUND_KEY_FIELDS)
    api_key = ApiKey.from_db(ApiKey.objects.db, list(_FOUND_KEY_FIELDS), rows[0][:width])
    api_key.found_grants = tuple(
        Grant(permission, property_id, user_id)
        for permission, property_id, user_id in (row[width:] for row in rows)
        if permission is not None and permission != ME
    )
    return api_key


# Every request signed in with a token looks it up: built and compiled once per process.
_TOKEN = PreparedSelect(
    lambda prefix, now: UserToken.objects.select_related("user").filter(
        prefix=prefix, revoked_at__isnull=True, expires_at__gt=now, user__is_active=True
    ),
    str,
    dt.datetime,
)


def user_token_find(prefix: str) -> UserToken | None:
    """The live token with this (unique) prefix and its person, in one query (its SQL compiled
    once per process: core.prepared)."""
    token = _TOKEN.first(prefix, timezone.now())
    if token is None or token.user.type_state == "deleted":
        return None
    return token


def credential_authenticate(secret: str):
    """(principal, credential) for a valid, unrevoked, unexpired secret; else None. The
    secret's kind names who issued it (credentials.credential_kind_register)."""
    parsed = secret_parse(secret)
    kind = credential_kind(parsed.kind) if parsed is not None else None
    if kind is None:
        return None
    # The version is read *before* the lookup: a change committed in between raises it, so
    # what is kept under the old value is never used again.
    version = credential_version() if kind.cacheable else None
    if version is not None:
        kept = credential_cache_get(parsed.kind, parsed.prefix, version)
        if kept is not None:
            credential, principal = kept
            if not secret_matches(parsed.secret, credential.digest, credential.pepper_id):
                return None
            return principal, credential
    credential = kind.find(parsed.prefix)
    if credential is None or not secret_matches(parsed.secret, credential.digest, credential.pepper_id):
        return None
    principal = kind.principal(credential)
    if version is not None:
        credential_cache_put(parsed.kind, parsed.prefix, version, credential, principal)
    return principal, credential


def user_list() -> QuerySet[User]:
    """Live users with their grants prefetched (external refs are read per page by the serializer)."""
    return User.objects.alive().prefetch_related(Prefetch("grants", queryset=PermissionGrant.objects.order_by("id")))


def user_grants(*, user_id) -> list[Grant]:
    return list(_grants(PermissionGrant.objects.filter(user_id=user_id).order_by("id")))
