"""DoorLock operations 6–10: areas of a property."""

from functools import partial

from rest_framework.response import Response

from apps.access import services as access_services
from apps.areas import selectors
from apps.areas.filters import AreaFilterSet
from apps.areas.serializers import AreaSerializer, AreaWritableSerializer, CreateAreaSerializer
from apps.core.api.permissions import operation
from apps.core.api.schema import filter_parameters
from apps.core.api.views import ApiView, or_404
from apps.properties.api import property_exists_or_404, property_or_404

TAGS = ["areas"]


def _areas(property_id):
    """Live areas with all AreaSerializer shows (their locks, sub-areas, refs and firmware are
    read per page by the serializer)."""
    return selectors.area_list(property_id=property_id)


def area_or_404(property_id, area_id):
    return or_404(_areas(property_id).filter(pk=area_id).first())


def _access_list(body):
    entries = body.get("accessList")
    return None if entries is None else [{k: (str(v) if v else v) for k, v in e.items()} for e in entries]


class AreaListCreateApi(ApiView):
    page_items_key = "properties"  # sic: the spec's AreaListOutput_data names its array `properties`

    @operation("listAreas", responses=AreaSerializer(many=True), parameters=filter_parameters(AreaFilterSet), tags=TAGS)
    def get(self, request, propertyId):
        # The property is checked only when the page is empty (or refused): its areas show it
        # is live (property_delete refuses while it has areas), so a full page costs no query.
        check = partial(property_exists_or_404, propertyId)
        areas = self.filtered(AreaFilterSet, _areas(propertyId), parent_check=check)
        return self.paginated(areas, AreaSerializer, parent_check=check)

    @operation("createArea", request=CreateAreaSerializer, responses=AreaSerializer, tags=TAGS)
    def post(self, request, propertyId):
        prop = property_or_404(propertyId)
        body = self.body(CreateAreaSerializer)
        area = access_services.area_create(
            prop=prop,
            display_name=body["displayName"],
            area_type=body["areaType"],
            parent_id=body.get("parentAreaId"),
            access_list=_access_list(body),
            actor=request.user.label,
        )
        return Response(AreaSerializer(area_or_404(propertyId, area.pk)).data)


class AreaDetailApi(ApiView):
    @operation("getArea", responses=AreaSerializer, tags=TAGS)
    def get(self, request, propertyId, areaId):
        return Response(AreaSerializer(area_or_404(propertyId, areaId)).data)

    @operation("updateArea", request=AreaWritableSerializer, responses=AreaSerializer, tags=TAGS)
    def put(self, request, propertyId, areaId):
        area = area_or_404(propertyId, areaId)
        body = self.body(AreaWritableSerializer)
        move = {"parent_id": body["parentAreaId"]} if "parentAreaId" in body else {}
        access_services.area_update(
            area=area,
            display_name=body["displayName"],
            access_list=_access_list(body),
            actor=request.user.label,
            **move,
        )
        return Response(AreaSerializer(area_or_404(propertyId, areaId)).data)

    @operation(
        "deleteArea", responses=None, errors={409: "the area still has child areas or installed locks"}, tags=TAGS
    )
    def delete(self, request, propertyId, areaId):
        access_services.area_delete(area=area_or_404(propertyId, areaId), actor=request.user.label)
        return Response({})
