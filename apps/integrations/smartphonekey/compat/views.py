"""`/compat/smartphonekey/`: SmartphoneKey's AddAccessibleLock (seed 003) served by Keyhouse, in
exactly the seed's shape, and the token call that issues its JWT (docs/INTEGRATIONS.md).

Not the Keyhouse envelope: answers are `{success: true, ...}` as the seed shows, errors
`{success: false, error: "<field>: <reason>"}` with 400/401/403/404. Both headers are required:
`X-API-Key` (a Keyhouse API key, whose scope bounds `lockId`) and `Authorization: Bearer <JWT>`
(issued to that key by `POST auth/token`).
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access.policies import check_may_grant, user_named
from apps.accounts.selectors import credential_authenticate
from apps.core.exceptions import ApplicationError, Forbidden
from apps.core.operations import INSTALL_LOCK, MANAGE_ACCESS, OWNER, PROVISION_LOCK, SUPPORT
from apps.integrations.smartphonekey.compat import parsing, schema, tokens
from apps.integrations.smartphonekey.compat.services import _iso, compat_accessible_lock_add
from apps.locks.models import Lock

GRANTERS = frozenset({OWNER, MANAGE_ACCESS})  # who may give grants through a key (createGrant's rule)
# A key's scope: the locks it may read (getLock's rule). Outside it a lock is 404; inside it
# without GRANTERS, or a level it may not give, 403.
READERS = frozenset({OWNER, MANAGE_ACCESS, SUPPORT, INSTALL_LOCK, PROVISION_LOCK})


def _refuse(field: str, reason: str, status: int) -> Response:
    return Response({"success": False, "error": f"{field}: {reason}"}, status=status)


def _api_key(request):
    """The API key principal of `X-API-Key`; Refused(401) otherwise."""
    secret = request.META.get("HTTP_X_API_KEY", "").strip()
    if not secret:
        raise parsing.Refused("X-API-Key", "required", 401)
    found = credential_authenticate(secret)
    if found is None:
        raise parsing.Refused("X-API-Key", "invalid, revoked or expired", 401)
    principal, _ = found
    if principal.kind != "api_key":
        raise parsing.Refused("X-API-Key", "must be a Keyhouse API key", 401)
    return principal


def _bearer(request, principal) -> None:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise parsing.Refused(
            "Authorization", "required: Bearer <token from POST /compat/smartphonekey/auth/token>", 401
        )
    try:
        subject = tokens.token_subject(token.strip())
    except tokens.TokenRefused as exc:
        raise parsing.Refused("Authorization", str(exc), 401) from None
    if subject != str(principal.id):
        raise parsing.Refused("Authorization", "token issued to another API key", 401)


class CompatView(APIView):
    schema = AutoSchema()  # with schema.compat_operation: SmartphoneKey's shapes, not the envelope
    authentication_classes = ()
    permission_classes = (AllowAny,)
    renderer_classes = (JSONRenderer,)
    parser_classes = (JSONParser,)
    throttle_classes = ()


class TokenApi(CompatView):
    @schema.compat_operation(
        operation_id="compatSmartphoneKeyToken",
        auth=[schema.API_KEY],
        request=None,
        responses={200: schema.TOKEN, 401: schema.ERROR, 503: schema.ERROR},
        summary="A JWT for AddAccessibleLock, issued to the X-API-Key",
    )
    def post(self, request):
        try:
            principal = _api_key(request)
        except parsing.Refused as exc:
            return _refuse(exc.field, exc.reason, exc.status)
        token, expires = tokens.token_issue(api_key_id=principal.id)
        return Response({"success": True, "token": token, "expiresAt": _iso(expires)})


class AddAccessibleLockApi(CompatView):
    @schema.compat_operation(
        operation_id="compatSmartphoneKeyAddAccessibleLock",
        auth=[{**schema.API_KEY, **schema.BEARER}],
        parameters=[
            OpenApiParameter(
                "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Keyhouse user id (not an id: 404)."
            )
        ],
        request={"application/json": schema.ADD_REQUEST},
        responses={
            200: schema.ADD_RESULT,
            **dict.fromkeys((400, 401, 403, 404, 503), schema.ERROR),
        },
        summary="Grant a user access to a lock (SmartphoneKey shape)",
    )
    def post(self, request, id):  # noqa: A002 - the seed's path parameter name
        try:
            principal = _api_key(request)
            _bearer(request, principal)
            try:
                body = parsing.parse_body(request.data)
            except Exception as exc:  # a body that is not JSON
                if isinstance(exc, parsing.Refused):
                    raise
                raise parsing.Refused("body", "must be a JSON object") from None
            lock = _lock(principal, body.lock_id)
            user = user_named(principal, READERS, id) if _is_uuid(id) else None
            if user is None:
                raise parsing.Refused("id", "no such user", 404)
            zone = lock.property.time_zone
            valid_from = parsing.parse_time(body.valid_from_text, field="validFrom", zone=zone, end=False)
            valid_until = parsing.parse_time(body.valid_until_text, field="validUntil", zone=zone, end=True)
            if not principal.allows(GRANTERS, property_id=lock.property_id):
                raise parsing.Refused("accessLevel", "this API key may not grant access on this lock", 403)
            try:
                check_may_grant(principal, prop=lock.property, lock=lock, area=None, access_level=body.access_level)
            except Forbidden as exc:
                raise parsing.Refused("accessLevel", str(exc), 403) from None
            result = compat_accessible_lock_add(
                user=user,
                lock=lock,
                access_level=body.access_level,
                valid_from=valid_from,
                valid_until=valid_until,
                granted_by=body.granted_by,
                actor=principal.label,
            )
        except parsing.Refused as exc:
            return _refuse(exc.field, exc.reason, exc.status)
        except ApplicationError as exc:
            field, _, reason = str(exc).partition(": ")
            return _refuse(field, reason or str(exc), exc.status)
        return Response(
            {
                "success": True,
                "aggregateId": str(user.pk),
                "version": result.version,
                "event": result.event,
                "lockId": str(lock.pk),
                "accessLevel": body.access_level,
            }
        )


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _lock(principal, lock_id: str) -> Lock:
    """The live lock `lock_id` if the key's scope reaches its property; Refused 404 otherwise
    (the same answer whether it is elsewhere or does not exist)."""
    lock = Lock.objects.alive().select_related("property").filter(pk=lock_id).first() if _is_uuid(lock_id) else None
    if lock is None or lock.property_id is None or not principal.allows(READERS, property_id=lock.property_id):
        raise parsing.Refused("lockId", "no such lock", 404)
    return lock
