"""The bare DRF baseline for the API-overhead figure: the same ApiKey rows through a plain
ModelSerializer, with no authentication, permission, throttling, envelope or paging.
Mounted only by tests/bench/urls.py, never in normal runs."""

from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import ApiKey

# As many rows as one default page of GET /api/v1/api-keys, so both bodies carry the same keys.
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


class BareView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    renderer_classes = [JSONRenderer]

    def get(self, request):
        rows = ApiKey.objects.order_by("id")[:ROWS]
        return Response(BareApiKeySerializer(rows, many=True).data)
