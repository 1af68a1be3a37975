"""DoorLock operations 32–40: locks, their signed commands, lock sync and access logs
(docs/PROTOCOL.md §6, §8, §9), and the provable-revocation extension."""

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.access import policies as access_policies
from apps.areas import selectors as area_selectors
from apps.core.api.envelope import EnvelopedResponse, envelope
from apps.core.api.pagination import PageTokenPagination
from apps.core.api.permissions import operation
from apps.core.api.schema import SIGNATURES, SIGNED_KEY_MAP, filter_parameters
from apps.core.api.views import ApiView, or_404
from apps.core.exceptions import ApplicationError
from apps.core.principal import ALL
from apps.events import selectors as event_selectors
from apps.keys import canonical
from apps.locks import selectors, services, signing
from apps.locks.choices import LockUninstallMode
from apps.locks.constants import LOCK_CALLER
from apps.locks.filters import LockFilterSet, LockHealthFilterSet
from apps.locks.models import LockCredential, LockHealth
from apps.locks.pagination import AccessLogPagination, LockHealthPagination
from apps.locks.serializers import (
    EventAcknowledgementsSerializer,
    LockAccessLogGapSerializer,
    LockAccessLogSerializer,
    LockEmptyInputSerializer,
    LockHealthSerializer,
    LockProvisionSerializer,
    LockSerializer,
    LockSyncOutputSerializer,
    LockSyncSerializer,
    LockWritableSerializer,
    SignedLockSerializer,
)
from apps.properties import selectors as property_selectors

TAGS = ["locks"]
SIGNED = "SignedLockOutput"
SIGNED_EXTRA = {"signatures": SIGNATURES}  # beside success/error/data (PROTOCOL.md §6.2)
# Callers that see a lock's `private` part (besides the lock itself); `me` sees the lock only.
PRIVATE_READERS = frozenset({"owner", "provision-lock", "install-lock", "manage-access", "support"})
UNINSTALL_MODE = OpenApiParameter(
    "uninstallMode", str, enum=LockUninstallMode.values, default="area", description="How far to uninstall."
)


def _unknown(field: str, message: str):
    raise ApplicationError(f"{field}: {message}", fields={field: [message]})


class _LockApi(ApiView):
    def lock_or_404(self, lock_id, *, get=selectors.lock_get):
        """The lock in the caller's reach; a lock calling sees only itself (404 otherwise)."""
        principal = self.request.user
        if principal.kind == LOCK_CALLER:
            lock = get(lock_id=lock_id) if str(principal.id) == str(lock_id) else None
        else:
            lock = get(lock_id=lock_id, property_ids=self.property_scope())
        return or_404(lock)

    def own_lock_or_404(self, lock_id):
        """For syncLock: the lock calling about itself is the lock its credential authenticated,
        read (live) with it by authentication, so it is not read again; anyone else as
        `lock_or_404` (lean read: `lock_sync` reads the row again under its row lock)."""
        principal, credential = self.request.user, self.request.auth
        if (
            principal.kind == LOCK_CALLER
            and isinstance(credential, LockCredential)
            and str(credential.lock_id) == str(principal.id) == str(lock_id)
        ):
            return credential.lock
        return self.lock_or_404(lock_id, get=selectors.lock_get_plain)

    def show_private(self, lock) -> bool:
        principal = self.request.user
        if principal.kind == LOCK_CALLER:
            return str(principal.id) == str(lock.pk)
        return principal.allows(PRIVATE_READERS & self.permissions, property_id=lock.property_id)

    def signed(self, lock, *, command: str, secret: str | None = None, **kwargs):
        """SignedLockOutput: the lock (with its signed `lockCommand`) and `signatures`."""
        fresh = selectors.lock_get(lock_id=lock.pk) or lock
        context = {"show_private": self.show_private(fresh) or secret is not None, "api_key_secret": secret}
        data, signatures = signing.lock_output_sign(
            lock=fresh, data=LockSerializer(fresh, context=context).data, command=command, **kwargs
        )
        return EnvelopedResponse(envelope(data=data, signatures=signatures))


class LockListCreateApi(_LockApi):
    page_items_key = "locks"

    @operation(
        "listLocks",
        responses=LockSerializer(many=True),
        parameters=filter_parameters(LockFilterSet),
        tags=TAGS,
    )
    def get(self, request):
        locks = self.filtered(LockFilterSet, selectors.lock_list(property_ids=self.property_scope()))
        return self.paginated(locks, LockSerializer, show_private=True)

    @operation(
        "provisionLock",
        request=LockProvisionSerializer,
        responses=SignedLockSerializer,
        envelope=SIGNED,
        envelope_extra=SIGNED_EXTRA,
        errors={409: "the `lockId` asked for is already in use"},
        tags=TAGS,
    )
    def post(self, request):
        """Provision a lock with its own public keys; the answer carries its API secret once
        (`private.apiKeySecret`) and a signed `provision` command (PROTOCOL.md §6.1)."""
        body = self.body(LockProvisionSerializer)
        scope = self.property_scope()
        prop = area = owner = None
        if body.get("propertyId"):
            if scope is not ALL and body["propertyId"] not in scope:
                _unknown("propertyId", "Unknown property.")
            prop = property_selectors.property_get(property_id=body["propertyId"])
            if prop is None:
                _unknown("propertyId", "Unknown property.")
        elif body.get("areaId"):
            _unknown("propertyId", "Required with areaId.")
        elif scope is not ALL:
            _unknown("propertyId", "Required: your grant is scoped to properties.")
        if body.get("areaId"):
            area = area_selectors.area_get(property_id=prop.pk, area_id=body["areaId"])
            if area is None:
                _unknown("areaId", "Unknown area of this property.")
        if body.get("ownerId"):
            owner = access_policies.user_visible(user_id=body["ownerId"], property_ids=scope)
            if owner is None:
                _unknown("ownerId", "Unknown user.")
        provisioned = services.lock_provision(
            display_name=body["displayName"],
            lock_key=body["lockKey"],
            lock_seal_key=body.get("lockSealKey"),
            prop=prop,
            area=area,
            owner=owner,
            lock_id=body.get("lockId"),
            purchase_date=body.get("purchaseDate"),
            actor=request.user.label,
        )
        return self.signed(provisioned.lock, command="provision", secret=provisioned.secret)


class LockDetailApi(_LockApi):
    @operation("getLock", responses=SignedLockSerializer, envelope=SIGNED, envelope_extra=SIGNED_EXTRA, tags=TAGS)
    def get(self, request, lockId):
        """The lock, with a signed `state` command the lock may apply (PROTOCOL.md §6.2)."""
        return self.signed(self.lock_or_404(lockId), command="state")

    @operation(
        "updateLock",
        request=LockWritableSerializer,
        responses=SignedLockSerializer,
        envelope=SIGNED,
        envelope_extra=SIGNED_EXTRA,
        tags=TAGS,
    )
    def put(self, request, lockId):
        lock = self.lock_or_404(lockId)
        body = self.body(LockWritableSerializer)
        lock = services.lock_update(lock=lock, display_name=body["displayName"], actor=request.user.label)
        return self.signed(lock, command="state")

    @operation("deprovisionLock", responses=None, tags=TAGS)
    def delete(self, request, lockId):
        services.lock_deprovision(lock=self.lock_or_404(lockId), actor=request.user.label)
        return Response({})


class LockInstallApi(_LockApi):
    @operation(
        "installLock",
        request=LockEmptyInputSerializer,
        responses=SignedLockSerializer,
        envelope=SIGNED,
        envelope_extra=SIGNED_EXTRA,
        tags=["areas", *TAGS],
    )
    def put(self, request, propertyId, areaId, lockId):
        """Install the lock in this area; the answer is the signed `install` command to hand to
        the lock (spec: "a signed message to send to the lock")."""
        self.body(LockEmptyInputSerializer)
        area = area_selectors.area_get(property_id=propertyId, area_id=areaId)
        lock = selectors.lock_for_install(lock_id=lockId, property_id=propertyId)
        if area is None or lock is None:
            raise NotFound()
        lock = services.lock_install(lock=lock, area=area, actor=request.user.label)
        return self.signed(lock, command="install")


class LockUninstallApi(_LockApi):
    @operation(
        "uninstallLock",
        request=LockEmptyInputSerializer,
        responses=SignedLockSerializer,
        parameters=[UNINSTALL_MODE],
        envelope=SIGNED,
        envelope_extra=SIGNED_EXTRA,
        tags=TAGS,
    )
    def put(self, request, lockId):
        """Uninstall; the answer is the signed `uninstall` command, signed by the property the
        lock leaves (with `property` / `owner` the lock forgets that property's keys)."""
        self.body(LockEmptyInputSerializer)
        mode = request.query_params.get("uninstallMode", LockUninstallMode.AREA)
        if mode not in LockUninstallMode.values:
            raise ValidationError({"uninstallMode": [f"Must be one of {', '.join(LockUninstallMode.values)}."]})
        lock = self.lock_or_404(lockId)
        left = lock.property_id
        lock = services.lock_uninstall(lock=lock, mode=mode, actor=request.user.label)
        return self.signed(lock, command="uninstall", signer_property_id=left, uninstall_mode=mode)


class LockSyncApi(_LockApi):
    @operation(
        "syncLock",
        request=LockSyncSerializer,
        responses=LockSyncOutputSerializer,
        envelope="SignedLockSyncOutput",
        envelope_extra={"signatures": SIGNATURES, "keyMap": SIGNED_KEY_MAP},
        errors={409: "the lock reports a key-map version older than one it acknowledged (a rollback)"},
        tags=TAGS,
    )
    def put(self, request, lockId):
        """The lock's signed sync (PROTOCOL.md §6.4): logs in, versions and ack recorded; the answer
        is signed (server time, the nonce echoed) and carries `keyMap` when the lock is behind."""
        lock = self.own_lock_or_404(lockId)  # lock_sync reads it again, locked
        # Parsed strictly from the raw bytes: the signature covers exactly what was sent (§3.1).
        try:
            raw = canonical.loads(request.body)
        except canonical.CanonicalError as exc:
            raise ValidationError({exc.member or "non_field_errors": [f"Not strict JSON: {exc.reason}"]}) from None
        if not isinstance(raw, dict):
            raise ValidationError({"non_field_errors": ["Must be a JSON object."]})
        LockSyncSerializer(data=raw).is_valid(raise_exception=True)
        outcome = services.lock_sync(lock=lock, body=raw)
        return EnvelopedResponse(envelope(data=outcome.data, signatures=outcome.signatures, keyMap=outcome.key_map))


class LockAccessLogListApi(_LockApi):
    pagination_class = AccessLogPagination
    page_items_key = "accessLogs"

    @operation("listLockAccessLogs", responses=LockAccessLogSerializer(many=True), tags=TAGS)
    def get(self, request, lockId):
        """Access logs, newest first (by the lock's sequence number); `gaps` lists the sequence
        ranges the lock has not delivered (extension)."""
        lock = self.lock_or_404(lockId)
        response = self.paginated(selectors.access_log_list(lock=lock), LockAccessLogSerializer)
        response.data["gaps"] = LockAccessLogGapSerializer(selectors.access_log_gaps(lock=lock), many=True).data
        return response


class EventAcknowledgementsApi(ApiView):
    pagination_class = PageTokenPagination

    @operation("getEventAcknowledgements", responses=EventAcknowledgementsSerializer, tags=["events", *TAGS])
    def get(self, request, eventId):
        """Provable revocation (extension): for one change, the locks whose key map it altered,
        which acknowledged a version that carries it (signed ack, PROTOCOL.md §8) and which are
        still pending."""
        event = or_404(event_selectors.event_get(event_id=eventId, property_ids=self.property_scope()))
        return Response(EventAcknowledgementsSerializer(selectors.event_acknowledgements(event=event)).data)


class LockHealthApi(_LockApi):
    @operation("getLockHealth", responses=LockHealthSerializer, tags=TAGS)
    def get(self, request, lockId):
        """The lock's health: door state, battery, last contact, online, held open, stale, source
        (extension; docs/INTEGRATIONS.md "Lock health"). Never reported: unknown, source null."""
        lock = self.lock_or_404(lockId)
        health = LockHealth.objects.filter(lock=lock).first() or LockHealth(lock=lock, source=None, updated_at=None)
        return Response(LockHealthSerializer(health).data)


class PropertyLockHealthApi(ApiView):
    page_items_key = "lockHealth"
    pagination_class = LockHealthPagination

    @operation(
        "listPropertyLockHealth",
        responses=LockHealthSerializer(many=True),
        parameters=filter_parameters(LockHealthFilterSet),
        tags=TAGS,
    )
    def get(self, request, propertyId):
        """The health of the property's locks that have reported, paged (extension;
        docs/INTEGRATIONS.md "Lock health"). `attention=true`: only those with battery low,
        offline, held open or stale."""
        if not property_selectors.property_exists(property_id=propertyId):
            raise NotFound()
        queryset = self.filtered(LockHealthFilterSet, selectors.lock_health_list(property_id=propertyId))
        return self.paginated(queryset, LockHealthSerializer)
