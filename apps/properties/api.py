"""DoorLock operations 1–5: properties."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.access import services as access_services
from apps.access.policies import user_ids_visible
from apps.core.api.permissions import operation
from apps.core.api.views import ApiView, or_404
from apps.core.principal import ALL
from apps.properties import selectors, services
from apps.properties.serializers import NewPropertySerializer, PropertySerializer, PropertyWritableSerializer

TAGS = ["properties"]


def property_or_404(property_id):
    return or_404(selectors.property_get(property_id=property_id))


def property_data(prop) -> dict:
    """PropertySerializer's output for one property: its access managers and external refs
    read together (selectors.property_links: one query instead of two)."""
    managers, refs = selectors.property_links(property_id=prop.pk)
    context = {"_access_manager_ids": {prop.pk: managers}, "_external_refs": {prop.pk: refs}}
    return PropertySerializer(prop, context=context).data


def property_exists_or_404(property_id) -> None:
    """For nested routes that need only to know the property is live (one cheap query)."""
    if not selectors.property_exists(property_id=property_id):
        raise NotFound()


class PropertyListCreateApi(ApiView):
    page_items_key = "properties"

    @operation("listProperties", responses=PropertySerializer(many=True), tags=TAGS)
    def get(self, request):
        return self.paginated(selectors.property_list(property_ids=self.property_scope()), PropertySerializer)

    @operation("createProperty", request=NewPropertySerializer, responses=PropertySerializer, tags=TAGS)
    def post(self, request):
        body = self.body(NewPropertySerializer)
        prop = access_services.property_create(
            display_name=body["displayName"],
            address=body["address"],
            time_zone=body.get("timeZone", "UTC"),
            owner_id=body.get("ownerId") or request.user.user_id,
            access_manager_ids=body.get("accessManagerIds", []),
            actor=request.user.label,
        )
        return Response(property_data(property_or_404(prop.pk)))


def _check_people_known(view: ApiView, prop, body) -> None:
    """A property-scoped caller may name as owner / access manager only people it can already
    see (else it could pull a stranger into reach and read their private part). Someone it
    cannot see reads as unknown, exactly like an id that does not exist."""
    reach = view.request.user.property_ids_for(view.permissions)
    if reach is ALL:
        return
    current = {prop.owner_id, *prop.access_managers.values_list("pk", flat=True)}
    for field, ids in (("ownerId", [body.get("ownerId")]), ("accessManagerIds", body.get("accessManagerIds", []))):
        new = {i for i in ids if i is not None} - current
        unknown = sorted(str(i) for i in new - user_ids_visible(user_ids=new, property_ids=reach))
        if unknown:
            raise ValidationError({field: [f"Unknown user(s): {', '.join(unknown)}."]})


class PropertyDetailApi(ApiView):
    @operation("getProperty", responses=PropertySerializer, tags=TAGS)
    def get(self, request, propertyId):
        return Response(property_data(property_or_404(propertyId)))

    @operation("updateProperty", request=PropertyWritableSerializer, responses=PropertySerializer, tags=TAGS)
    def put(self, request, propertyId):
        prop = property_or_404(propertyId)
        body = self.body(PropertyWritableSerializer)
        _check_people_known(self, prop, body)
        services.property_update(
            prop=prop,
            display_name=body["displayName"],
            address=body["address"],
            access_manager_ids=body["accessManagerIds"],
            time_zone=body.get("timeZone"),
            owner_id=body.get("ownerId"),
            actor=request.user.label,
        )
        return Response(property_data(property_or_404(propertyId)))

    @operation(
        "deleteProperty", responses=None, errors={409: "the property still has areas, groups or locks"}, tags=TAGS
    )
    def delete(self, request, propertyId):
        access_services.property_delete(prop=property_or_404(propertyId), actor=request.user.label)
        return Response({})
