"""DoorLock operations 26–31: a person's devices, and device sync (docs/PROTOCOL.md §7)."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.access import policies as access_policies
from apps.accounts.api_users import user_in_scope
from apps.accounts.policies import MANAGERS
from apps.core.api.envelope import EnvelopedResponse, envelope
from apps.core.api.permissions import operation
from apps.core.api.schema import SIGNATURES
from apps.core.api.views import ApiView, or_404
from apps.core.principal import ALL
from apps.devices import selectors, services
from apps.devices.serializers import (
    ProvisionUserDeviceSerializer,
    SignedUserDeviceSyncSerializer,
    UserDeviceListSerializer,
    UserDeviceSerializer,
    UserDeviceSyncOutputSerializer,
    UserDeviceWritableSerializer,
)
from apps.keys import canonical

TAGS = ["user devices"]


class _DeviceApi(ApiView):
    def _user(self, user_id):
        return user_in_scope(self, user_id)[0]

    def _device(self, user_id, user_device_id):
        """The device, if its person is in the caller's scope and it is theirs; else 404."""
        user = self._user(user_id)
        return or_404(selectors.user_device_get(user_id=user.pk, user_device_id=user_device_id))

    def _context(self, user) -> dict:
        """`private` (keys, versions, last sync) for the person themself and their managers."""
        principal, managers = self.request.user, self.request.user.property_ids_for(MANAGERS)
        show = (
            principal.user_id == user.pk
            or managers is ALL
            or (bool(managers) and access_policies.user_visible(user_id=user.pk, property_ids=managers) is not None)
        )
        return {"show_private": show}

    def _one(self, device):
        device = selectors.user_device_list(user_id=device.user_id).filter(pk=device.pk).first() or device
        return Response(UserDeviceSerializer(device, context=self._context(device.user)).data)


class UserDeviceListCreateApi(_DeviceApi):
    @operation("listUserDevices", responses=UserDeviceListSerializer, tags=TAGS)
    def get(self, request, userId):
        user = self._user(userId)
        devices = selectors.user_device_list(user_id=user.pk)
        return Response({"devices": UserDeviceSerializer(devices, many=True, context=self._context(user)).data})

    @operation("provisionUserDevice", request=ProvisionUserDeviceSerializer, responses=UserDeviceSerializer, tags=TAGS)
    def post(self, request, userId):
        user = self._user(userId)
        body = self.body(ProvisionUserDeviceSerializer)
        device = services.user_device_provision(
            user=user,
            device_type=body["deviceType"],
            make_model=body["makeModel"],
            display_name=body["displayName"],
            access_public_key=body["deviceAccessPublicKey"],
            sync_public_key=body["deviceSyncPublicKey"],
            seal_public_key=body["deviceSyncEncryptionPublicKey"],
            actor=request.user.label,
        )
        return self._one(device)


class UserDeviceDetailApi(_DeviceApi):
    @operation("getUserDevice", responses=UserDeviceSerializer, tags=TAGS)
    def get(self, request, userId, userDeviceId):
        return self._one(self._device(userId, userDeviceId))

    @operation("updateUserDevice", request=UserDeviceWritableSerializer, responses=UserDeviceSerializer, tags=TAGS)
    def put(self, request, userId, userDeviceId):
        device = self._device(userId, userDeviceId)
        body = self.body(UserDeviceWritableSerializer)
        return self._one(
            services.user_device_update(device=device, display_name=body["displayName"], actor=request.user.label)
        )

    @operation("deprovisionUserDevice", responses=UserDeviceSerializer, tags=TAGS)
    def delete(self, request, userId, userDeviceId):
        device = services.user_device_deprovision(device=self._device(userId, userDeviceId), actor=request.user.label)
        return Response(UserDeviceSerializer(device, context=self._context(device.user)).data)


class UserDeviceSyncApi(_DeviceApi):
    @operation(
        "syncUserDevice",
        request=SignedUserDeviceSyncSerializer,
        responses=UserDeviceSyncOutputSerializer,
        envelope="UserDeviceSyncOutput",
        envelope_extra={"signatures": SIGNATURES},
        tags=TAGS,
    )
    def put(self, request, userId, userDeviceId):
        # Only the person themself syncs (`me`): anyone else is a 404, like another's device.
        if not request.user.allows(self.permissions, user_id=userId):
            raise NotFound()
        # Parsed strictly from the raw bytes (duplicate members, fractions, NaN refused): the
        # signature covers exactly what was sent, so two parsers must not disagree (§3.1).
        try:
            raw = canonical.loads(request.body)
        except canonical.CanonicalError as exc:
            raise ValidationError({exc.member or "non_field_errors": [f"Not strict JSON: {exc.reason}"]}) from None
        serializer = SignedUserDeviceSyncSerializer(data=raw)
        serializer.is_valid(raise_exception=True)
        result = services.user_device_sync(
            user_id=userId,
            user_device_id=userDeviceId,
            payload={k: v for k, v in raw.items() if k != "deviceSignature"},
            device_signature=raw["deviceSignature"],
            sync_date=serializer.validated_data["syncDate"],
            actor=request.user.label,
        )
        return EnvelopedResponse(envelope(data=result.data, signatures=result.signatures))
