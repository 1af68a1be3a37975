"""Keyhouse extension (docs/IMPORT.md): bulk import runs and exports of a property."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.core.api.pagination import PageTokenPagination
from apps.core.api.permissions import operation
from apps.core.api.views import ApiView, or_404
from apps.imports import policies, selectors, services, writers
from apps.imports.models import OPERATIONS, ImportRunKind
from apps.imports.serializers import (
    ApplyImportSerializer,
    CreateImportSerializer,
    ImportOperationSerializer,
    ImportRunSerializer,
)
from apps.properties.api import property_exists_or_404, property_or_404

TAGS = ["imports"]


def run_or_404(property_id, import_id):
    return or_404(selectors.import_run_list(property_id=property_id).filter(pk=import_id).first())


class ImportListCreateApi(ApiView):
    page_items_key = "imports"
    parser_classes = [MultiPartParser]

    @operation("listImports", responses=ImportRunSerializer(many=True), tags=TAGS)
    def get(self, request, propertyId):
        """The property's import runs, newest first, with who ran them."""
        property_exists_or_404(propertyId)
        return self.paginated(selectors.import_run_list(property_id=propertyId), ImportRunSerializer)

    @operation(
        "createImport",
        request={"multipart/form-data": CreateImportSerializer},
        responses={200: ImportRunSerializer, 413: OpenApiResponse(description="The file is over the size limit.")},
        tags=TAGS,
    )
    def post(self, request, propertyId):
        """Upload a file; validation (the dry run) runs in the background: poll getImport."""
        prop = property_or_404(propertyId)
        body = self.body(CreateImportSerializer)
        policies.check_may_import(request.user, property_id=prop.pk, kind=body["kind"])
        upload = body["file"]
        if upload.size > services.max_bytes():
            raise services.FileTooLarge(
                f"file: The file is {upload.size:,} bytes; the limit is {services.max_bytes():,} bytes.",
                fields={"file": [f"At most {services.max_bytes():,} bytes."]},
            )
        run = services.import_run_create(
            prop=prop,
            kind=body["kind"],
            mode=body["mode"],
            file_name=upload.name or "",
            content=upload.read(),
            actor=request.user.label,
            principal=request.user,
        )
        return Response(ImportRunSerializer(run_or_404(propertyId, run.pk)).data)


class ImportDetailApi(ApiView):
    @operation("getImport", responses=ImportRunSerializer, tags=TAGS)
    def get(self, request, propertyId, importId):
        """A run's status, progress (rows done / total), summary and row errors; its dry-run
        diff is paged by listImportOperations."""
        return Response(ImportRunSerializer(run_or_404(propertyId, importId)).data)


class PlanOrderPagination(PageTokenPagination):
    ordering = "seq"  # an operation's place in the plan (unique per run)
    key_type = int


OPERATION_FILTER = OpenApiParameter("op", str, enum=list(OPERATIONS), description="Only operations of this kind.")


class ImportOperationListApi(ApiView):
    page_items_key = "operations"
    pagination_class = PlanOrderPagination

    @operation(
        "listImportOperations",
        parameters=[OPERATION_FILTER],
        responses=ImportOperationSerializer(many=True),
        tags=TAGS,
    )
    def get(self, request, propertyId, importId):
        """A run's dry-run diff, paged in plan order (file order, then the removals): what each
        row would create, update (field-level before/after) or leave unchanged, and in sync
        mode what would be removed. `summary` on getImport has the counts."""
        run = run_or_404(propertyId, importId)
        kind = request.query_params.get("op") or None
        if kind is not None and kind not in OPERATIONS:
            raise ValidationError({"op": [f"Must be one of {', '.join(OPERATIONS)}."]})
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.import_operation_list(run=run, op=kind), request, view=self)
        return paginator.get_paginated_response(ImportOperationSerializer([o.data for o in page], many=True).data)


class ImportApplyApi(ApiView):
    parser_classes = [JSONParser]

    @operation("applyImport", request=ApplyImportSerializer, responses=ImportRunSerializer, tags=TAGS)
    def post(self, request, propertyId, importId):
        """Apply a validated run (in the background). 400 while it has row errors unless
        `validRowsOnly`; 409 unless validated; a run whose data changed since validation ends
        `failed`, naming what changed."""
        run = run_or_404(propertyId, importId)
        body = self.body(ApplyImportSerializer)
        policies.check_may_import(request.user, property_id=run.property_id, kind=run.kind)
        services.import_run_apply_request(run=run, actor=request.user.label, valid_rows_only=body["validRowsOnly"])
        return Response(ImportRunSerializer(run_or_404(propertyId, importId)).data)


class ImportCancelApi(ApiView):
    @operation("cancelImport", request=None, responses=ImportRunSerializer, tags=TAGS)
    def post(self, request, propertyId, importId):
        """Cancel a run before it is applied (409 once applying or finished)."""
        services.import_run_cancel(run=run_or_404(propertyId, importId), actor=request.user.label)
        return Response(ImportRunSerializer(run_or_404(propertyId, importId)).data)


FILE_TYPE = OpenApiParameter("fileType", str, enum=["csv", "xlsx"], description="Default csv.")
TEMPLATE = OpenApiParameter("template", bool, description="true: the header row only (a template to fill in).")


def export_response(prop, kind: str, fmt: str, *, ids=None, template: bool = False) -> StreamingHttpResponse:
    """The kind's rows as a streamed CSV or XLSX download (shared by the API and the admin)."""
    header, rows = selectors.export_rows(prop=prop, kind=kind, ids=ids)
    if template:
        rows = iter(())
    stream = writers.xlsx_stream(header, rows, title=kind) if fmt == "xlsx" else writers.csv_stream(header, rows)
    content_type = writers.XLSX_CONTENT_TYPE if fmt == "xlsx" else writers.CSV_CONTENT_TYPE
    response = StreamingHttpResponse(stream, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{kind}{"-template" if template else ""}.{fmt}"'
    return response


class ExportApi(ApiView):
    @operation(
        "exportProperty",
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(ImportRunKind.values)),
            FILE_TYPE,
            TEMPLATE,
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="UTF-8 CSV with a BOM"),
            (200, writers.XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="one sheet"),
        },
        tags=TAGS,
    )
    def get(self, request, propertyId, kind):
        """A kind's rows (users, areas, groups, memberships, grants), streamed, in the columns an import
        reads back; cells a spreadsheet would run as formulas are escaped with '."""
        prop = property_or_404(propertyId)
        fmt = request.query_params.get("fileType", "csv")
        if fmt not in ("csv", "xlsx"):
            raise ValidationError({"fileType": ["Must be csv or xlsx."]})
        if kind not in ImportRunKind.values:
            raise ValidationError({"kind": [f"Must be one of {', '.join(ImportRunKind.values)}."]})
        template = request.query_params.get("template", "false")
        if template not in ("true", "false"):  # the schema's boolean, nothing else
            raise ValidationError({"template": ["Must be true or false."]})
        template = template == "true"
        return export_response(prop, kind, fmt, template=template)
