"""The bare DRF baselines: the same rows through a plain ModelSerializer, with no
authentication, permission, throttling, envelope or paging. Mounted only by
tests/bench/urls.py, never in normal runs.

- BareView: 50 ApiKey rows (against GET /api/v1/api-keys).
- BareAreaView: the first 50 areas of a property by id (against listAreas, a page of 50).
- BarePropertyView: one property (against getProperty).
- BareLockSyncView / BareDeviceSyncView (against syncLock / syncUserDevice, no change): the same
  JSON body parsed by DRF, the lock's (device's) row read and written back in one transaction
  (select_for_update, the sync time saved) and returned through a trivial ModelSerializer. No
  authentication, signature check, replay or clock checks, signing or envelope.
"""

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import ApiKey
from apps.areas.models import Area
from apps.devices.models import UserDevice
from apps.locks.models import Lock
from apps.properties.models import Property

# As many rows as one default page of the enveloped lists, so both bodies carry the same rows.
ROWS = 50


class BareApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = (
            "id",
            "display_name",
            "type_state",
            "created_at",
            "last_modified_at",
            "last_modified_by",
            "last_used_at",
            "revoked_at",
        )


class BareAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Area
        fields = (
            "id",
            "property",
            "parent",
            "display_name",
            "area_type",
            "ancestor_ids",
            "depth",
            "access_list",
            "access_list_version",
            "type_state",
            "created_at",
            "last_modified_at",
            "last_modified_by",
        )


class BarePropertySerializer(serializers.ModelSerializer):
    class Meta:
        model = Property
        fields = (
            "id",
            "display_name",
            "address",
            "owner",
            "time_zone",
            "type_state",
            "created_at",
            "last_modified_at",
            "last_modified_by",
        )


class BareLockSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lock
        fields = (
            "id",
            "property",
            "area",
            "signed_key_map_version",
            "reported_key_map_version",
            "applied_key_map_version",
            "current_firmware_version",
            "last_sync_sequence",
            "last_known_sync_date",
            "access_log_high_sequence",
        )


class BareDeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = UserDevice
        fields = (
            "id",
            "user",
            "map_version",
            "current_os_version",
            "current_app_version",
            "current_user_access_map_version",
            "last_sync_counter",
            "last_known_sync_date",
        )


class _Bare(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    renderer_classes = [JSONRenderer]


class BareView(_Bare):
    def get(self, request):
        rows = ApiKey.objects.order_by("id")[:ROWS]
        return Response(BareApiKeySerializer(rows, many=True).data)


class BareAreaView(_Bare):
    def get(self, request, property_id):
        rows = Area.objects.filter(property_id=property_id).order_by("id")[:ROWS]
        return Response(BareAreaSerializer(rows, many=True).data)


class BarePropertyView(_Bare):
    def get(self, request, property_id):
        return Response(BarePropertySerializer(get_object_or_404(Property, pk=property_id)).data)


class BareLockSyncView(_Bare):
    def put(self, request, lock_id):
        if not isinstance(request.data, dict):
            return Response({"detail": "a JSON object"}, status=400)
        with transaction.atomic():
            lock = get_object_or_404(Lock.objects.select_for_update(), pk=lock_id)
            lock.last_known_sync_date = timezone.now()
            lock.save(update_fields=["last_known_sync_date"])
        return Response(BareLockSerializer(lock).data)


class BareDeviceSyncView(_Bare):
    def put(self, request, user_id, user_device_id):
        if not isinstance(request.data, dict):
            return Response({"detail": "a JSON object"}, status=400)
        with transaction.atomic():
            device = get_object_or_404(UserDevice.objects.select_for_update(), pk=user_device_id, user_id=user_id)
            device.last_known_sync_date = timezone.now()
            device.save(update_fields=["last_known_sync_date"])
        return Response(BareDeviceSerializer(device).data)
