"""DoorLock operations 41–45: firmware upload, metadata, download, assign, unassign."""

from django.http import HttpResponseNotModified, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.areas.models import Area
from apps.core.api.envelope import error_response
from apps.core.api.permissions import operation
from apps.core.api.views import ApiView, or_404
from apps.core.principal import ALL
from apps.firmware import ranges, selectors, services
from apps.firmware.choices import FirmwareAssignmentScope as Scope
from apps.firmware.constants import version_problem
from apps.firmware.serializers import FirmwareScopeQuerySerializer, FirmwareUploadSerializer, FirmwareVersionSerializer
from apps.firmware.storage import firmware_storage, read_range
from apps.locks.models import Lock
from apps.properties.models import Property

TAGS = ["firmware"]
LOCK_CALLER = "lock"
SCOPE_PARAMETERS = [
    OpenApiParameter("scope", str, enum=Scope.values, required=True, description="Where the version applies."),
    OpenApiParameter("lockId", OpenApiTypes.UUID, description="Required when scope is lock."),
    OpenApiParameter("areaId", OpenApiTypes.UUID, description="Required when scope is area."),
    OpenApiParameter(
        "propertyId", OpenApiTypes.UUID, description="Required when scope is property; may name an area's property."
    ),
]
RANGE_PARAMETER = OpenApiParameter(
    "Range", str, OpenApiParameter.HEADER, description="`bytes=first-last`, `bytes=first-` or `bytes=-suffix`."
)


def _checked(version: str) -> str:
    problem = version_problem(version)
    if problem:
        raise ValidationError({"version": [problem]})
    return version


def _lock_of(request):
    """The calling lock (callers of kind `lock`, see keys issue), or None for other callers."""
    if getattr(request.user, "kind", None) != LOCK_CALLER:
        return None

    return or_404(Lock.objects.alive().select_related("area").filter(pk=request.user.id).first())


def firmware_or_404(request, version: str):
    """The version, if this caller may see it: a lock only the version it must run."""
    firmware = or_404(selectors.firmware_version_get(version=_checked(version)))
    lock = _lock_of(request)
    if lock is not None and not selectors.firmware_download_allowed_for_lock(lock=lock, firmware_version=firmware):
        raise NotFound()
    return firmware, lock


def _output(view: ApiView, firmware, lock=None) -> dict:
    if lock is not None:
        scopes = selectors.firmware_scope_list_for_lock(firmware_version=firmware, lock=lock)
    else:
        scopes = selectors.firmware_scope_list(firmware_version=firmware, property_ids=view.property_scope())
    return FirmwareVersionSerializer(firmware, context={"scopes": scopes}).data


def _scope_query(view: ApiView) -> dict:
    serializer = FirmwareScopeQuerySerializer(data=view.request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _target(view: ApiView, query: dict) -> dict:
    """The lock / area / property named by the query, inside the caller's reach (else 404);
    the global scope needs a grant that is not scoped to a property (else 403)."""

    reach = view.property_scope()
    scope = query["scope"]
    if scope == Scope.GLOBAL:
        if reach is not ALL:
            raise PermissionDenied("scope global needs a grant that is not scoped to a property")
        return {}
    if scope == Scope.LOCK:
        found = Lock.objects.alive().filter(pk=query["lockId"]).first()
        property_id, key = (found.property_id if found else None), "lock"
    elif scope == Scope.AREA:
        areas = Area.objects.alive().filter(pk=query["areaId"])
        if "propertyId" in query:
            areas = areas.filter(property_id=query["propertyId"])
        found = areas.first()
        property_id, key = (found.property_id if found else None), "area"
    else:
        found = Property.objects.alive().filter(pk=query["propertyId"]).first()
        property_id, key = (found.pk if found else None), "prop"
    if found is None or (reach is not ALL and property_id not in reach):
        raise NotFound()
    return {key: found}


class FirmwareUploadApi(ApiView):
    parser_classes = [MultiPartParser]

    @operation(
        "uploadFirmwareVersion",
        request={"multipart/form-data": FirmwareUploadSerializer},
        responses=FirmwareVersionSerializer,
        errors={
            409: "the version exists with other bytes",
            413: "the file is larger than the limit",
            507: "the firmware storage is full: nothing was stored",
        },
        tags=TAGS,
    )
    def post(self, request, version):
        """Upload a new door lock firmware version. The same bytes again answer 200 with the
        existing record; other bytes under an existing version are a 409."""
        _checked(version)
        upload = self.body(FirmwareUploadSerializer)["firmware"]
        firmware, _created = services.firmware_version_upload(version=version, upload=upload, actor=request.user.label)
        return Response(_output(self, firmware))


class FirmwareDetailApi(ApiView):
    @operation("getFirmwareVersion", responses=FirmwareVersionSerializer, tags=TAGS)
    def get(self, request, version):
        firmware, lock = firmware_or_404(request, version)
        return Response(_output(self, firmware, lock))


class FirmwareDownloadApi(ApiView):
    @operation(
        "downloadFirmwareVersion",
        parameters=[RANGE_PARAMETER],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="the whole image"),
            (206, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="the range asked for"),
        },
        errors={416: "the `Range` starts past the end of the image (`Content-Range: bytes */size`)"},
        tags=TAGS,
    )
    def get(self, request, version):
        """The image, streamed; `ETag` is the quoted sha256, `Range` gives a 206 (or 416)."""
        firmware, _lock = firmware_or_404(request, version)
        etag = f'"{firmware.sha256}"'
        if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
            response = HttpResponseNotModified()
            response["ETag"] = etag
            return response
        header = request.headers.get("Range")
        if request.headers.get("If-Range") not in (None, etag):
            header = None  # the client's copy is stale: send it all
        try:
            wanted = ranges.parse_range(header, firmware.size)
        except ranges.Unsatisfiable as exc:
            return error_response(
                416, f"range not satisfiable: {exc}", headers={"Content-Range": f"bytes */{firmware.size}"}
            )
        first, last = wanted if wanted else (0, firmware.size - 1)
        length = last - first + 1
        response = StreamingHttpResponse(
            read_range(firmware_storage(), firmware.storage_name, first, length),
            status=206 if wanted else 200,
            content_type="application/octet-stream",
        )
        response["Content-Length"] = str(length)
        if wanted:
            response["Content-Range"] = f"bytes {first}-{last}/{firmware.size}"
        response["ETag"] = etag
        response["Accept-Ranges"] = "bytes"
        response["Content-Disposition"] = f'attachment; filename="{firmware.version}.bin"'
        response["X-Firmware-Key-Id"] = firmware.signing_key_id
        response["X-Firmware-Signature"] = firmware.manifest_signature
        return response


class FirmwareAssignApi(ApiView):
    @operation(
        "assignFirmwareVersion",
        parameters=SCOPE_PARAMETERS,
        request=None,
        responses=FirmwareVersionSerializer,
        tags=TAGS,
    )
    def put(self, request, version):
        """Require this version at a lock, an area, a property or everywhere (replaces what
        was assigned at that target)."""
        _checked(version)
        query = _scope_query(self)
        firmware, _ = firmware_or_404(request, version)
        target = _target(self, query)
        services.firmware_assign(firmware_version=firmware, scope=query["scope"], actor=request.user.label, **target)
        return Response(_output(self, firmware))


class FirmwareUnassignApi(ApiView):
    @operation("unassignFirmwareVersion", parameters=SCOPE_PARAMETERS, request=None, responses=None, tags=TAGS)
    def put(self, request):
        """Remove the assignment at a target; nothing assigned there is a 200 too."""
        query = _scope_query(self)
        services.firmware_unassign(scope=query["scope"], actor=request.user.label, **_target(self, query))
        return Response({})
