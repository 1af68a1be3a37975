"""The resident portal API (`/api/portal/v1/residents/properties/{propertyId}/…`, seed 002)
and the staff DPSK export (`/api/v1/properties/{propertyId}/dpsk`).

Who may call: a unit token (`Bearer khr_…`, UNIT rights) or a signed-in person (`Bearer
khu_…` from createAuthToken) who is an ACTIVE UNIT or LINKED user of a unit of the path's
property; anyone else gets 404 (docs/PORTAL.md). Each accepted request takes one token from
the property's bucket (apps.portal.ratelimit); failed authentications take from the client
address's bucket instead.
"""

import math

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from apps.core.api.permissions import operation
from apps.core.api.views import ApiView, or_404
from apps.core.exceptions import Forbidden
from apps.devices import selectors as device_selectors
from apps.devices import services as device_services
from apps.portal import ratelimit, selectors, services
from apps.portal.serializers import (
    DpskExportSerializer,
    GuestCreateSerializer,
    UnitDeviceListSerializer,
    UnitDeviceSerializer,
    UnitUserPageSerializer,
    UnitUserQuerySerializer,
    UnitUserSerializer,
    UnitUserUpdateOutputSerializer,
    UnitUserUpdateSerializer,
)
from apps.properties.api import property_or_404

TAGS = ["Resident Portal Unit Users API"]
BASE = "/api/portal/v1/residents/properties"


def _throttled(decision: ratelimit.Decision) -> exceptions.Throttled:
    return exceptions.Throttled(wait=decision.retry_after)


class PortalCallerPermission(BasePermission):
    """The caller's unit at the path's property (404 otherwise), then the property's bucket."""

    def has_permission(self, request, view) -> bool:
        if request.user is None:
            raise exceptions.NotAuthenticated()
        caller = selectors.caller_for(principal=request.user, property_id=view.kwargs["propertyId"])
        if caller is None:
            raise exceptions.NotFound()
        decision = ratelimit.property_take(caller.area.property_id)
        if not decision.allowed:
            raise _throttled(decision)
        view.caller = caller
        return True


class PortalApiView(ApiView):
    permission_classes = [PortalCallerPermission]
    throttle_classes = []  # the property's token bucket (PortalCallerPermission) and failed-auth bucket
    caller: selectors.PortalCaller

    def perform_authentication(self, request):
        address = BaseThrottle().get_ident(request)
        looked = ratelimit.failed_auth(address, cost=0)
        if not looked.allowed:
            raise _throttled(looked)
        try:
            request.user  # noqa: B018 - runs the authenticators
        except exceptions.AuthenticationFailed:
            ratelimit.failed_auth(address, cost=1)
            raise

    def context(self) -> dict:
        return {
            "passphrase_of": lambda unit_user: selectors.passphrase_visible(self.caller, unit_user),
            "base": f"{BASE}/{self.kwargs['propertyId']}",
        }

    def unit_user_or_404(self, user_id):
        return or_404(selectors.unit_user_get(area_id=self.caller.area.pk, user_id=user_id))

    def check_may_change(self, unit_user) -> None:
        """UNIT rights change anyone of the unit; a LINKED person only themselves."""
        if not self.caller.unit_rights and self.caller.unit_user.pk != unit_user.pk:
            raise Forbidden("only UNIT rights may change or see the devices of other unit users")

    def shown(self, unit_user) -> dict:
        return UnitUserSerializer(unit_user, context=self.context()).data


class UnitUserDetailApi(PortalApiView):
    @operation("getUnitUser", responses=UnitUserSerializer, tags=TAGS, summary="Get Unit User Details")
    def get(self, request, propertyId, userId):
        return Response(self.shown(self.unit_user_or_404(userId)))

    @operation(
        "updateUnitUser",
        request=UnitUserUpdateSerializer,
        responses=UnitUserUpdateOutputSerializer,
        tags=TAGS,
        summary="Update Unit User",
        description="Fields left out stay as they are. `type` cannot be changed; `status` needs UNIT rights; "
        "a LINKED user changes only themselves. The last ACTIVE UNIT user cannot be blocked (409).",
    )
    def put(self, request, propertyId, userId):
        unit_user = self.unit_user_or_404(userId)
        body = self.body(UnitUserUpdateSerializer)
        if "userId" in body and body["userId"] != unit_user.user_id:
            raise exceptions.ValidationError({"userId": ["Must equal the userId in the path."]})
        if "type" in body and body["type"] != unit_user.user_type:
            raise exceptions.ValidationError({"type": ["Cannot be changed by residents."]})
        self.check_may_change(unit_user)
        if "status" in body and body["status"] != unit_user.status and not self.caller.unit_rights:
            raise Forbidden("only UNIT rights may block or unblock unit users")
        keep = services.KEEP
        unit_user, persona, dpsk = services.unit_user_update(
            unit_user=unit_user,
            actor=self.caller.label,
            user_name=body.get("userName", keep),
            email=body.get("email", keep),
            phone_number=body.get("phoneNumber", keep),
            passphrase=body.get("passphrase", keep),
            status=body.get("status", keep),
        )
        return Response({"personaUpdateId": str(persona.pk), "dpskUpdateId": str(dpsk.pk) if dpsk else None})


def spring_page(*, content: list, total: int, page: int, size: int, sorted_: bool) -> dict:
    """Spring Data's Page: `size` = page size, `number` = index, `numberOfElements` = items here."""
    total_pages = math.ceil(total / size) if total else 0
    sort = {"empty": not sorted_, "sorted": sorted_, "unsorted": not sorted_}
    return {
        "totalPages": total_pages,
        "totalElements": total,
        "first": page == 0,
        "last": page + 1 >= total_pages,
        "size": size,
        "content": content,
        "number": page,
        "sort": sort,
        "numberOfElements": len(content),
        "pageable": {
            "offset": page * size,
            "sort": sort,
            "pageNumber": page,
            "pageSize": size,
            "paged": True,
            "unpaged": False,
        },
        "empty": not content,
    }


class UnitUserQueryApi(PortalApiView):
    @operation(
        "queryUnitUsers",
        request=UnitUserQuerySerializer,
        responses=UnitUserPageSerializer,
        tags=TAGS,
        summary="Query Unit Users",
        description="`page` from 0; `pageSize` default 20, at most 100; `sortFields` only userId. "
        "A page past the end is empty.",
    )
    def post(self, request, propertyId):
        body = self.body(UnitUserQuerySerializer)
        rows = selectors.unit_user_list(area_id=self.caller.area.pk)
        if body.get("userId"):
            rows = rows.filter(user_id=body["userId"])
        rows = rows.order_by("-user_id" if body["sortDirection"] == "DESC" else "user_id")
        page, size = body["page"], body["pageSize"]
        total = rows.count()
        items = list(rows[page * size : page * size + size]) if page * size < total else []
        content = UnitUserSerializer(items, many=True, context=self.context()).data
        return Response(spring_page(content=content, total=total, page=page, size=size, sorted_="sortFields" in body))


class UnitUserDeviceListApi(PortalApiView):
    @operation("listUnitUserDevices", responses=UnitDeviceListSerializer, tags=TAGS, summary="Get Unit User Devices")
    def get(self, request, propertyId, userId):
        unit_user = self.unit_user_or_404(userId)
        self.check_may_change(unit_user)
        devices = device_selectors.user_device_list(user_id=unit_user.user_id)
        base = self.context()["base"]
        return Response(
            {
                "contents": UnitDeviceSerializer(devices, many=True).data,
                "_links": {"self": {"href": f"{base}/units/users/{unit_user.user_id}/devices"}},
            }
        )


class UnitUserDeviceDetailApi(PortalApiView):
    @operation(
        "deleteUnitUserDevice",
        responses={204: OpenApiResponse(description="Device removed (no body).")},
        tags=TAGS,
        summary="Delete Unit User Device",
        description="Deprovisions the phone: its keys leave every lock's key map at the next sync.",
    )
    def delete(self, request, propertyId, userId, deviceId):
        unit_user = self.unit_user_or_404(userId)
        self.check_may_change(unit_user)
        device = or_404(device_selectors.user_device_get(user_id=unit_user.user_id, user_device_id=deviceId))
        device_services.user_device_deprovision(device=device, actor=self.caller.label)
        return HttpResponse(status=204)


class UnitGuestCreateApi(PortalApiView):
    @operation(
        "createUnitGuest",
        request=GuestCreateSerializer,
        responses=UnitUserSerializer,
        tags=TAGS,
        summary="Invite a guest (extension)",
        description="Creates the guest (or finds their account by email), a GUEST grant on the unit and the "
        "areas above it, and a passphrase, all for validFrom..validUntil; emails an invitation.",
    )
    def post(self, request, propertyId):
        body = self.body(GuestCreateSerializer)
        unit_user = services.guest_invite(
            area=self.caller.area,
            user_name=body["userName"],
            email=body["email"],
            phone_number=body.get("phoneNumber", ""),
            valid_from=body.get("validFrom"),
            valid_until=body["validUntil"],
            actor=self.caller.label,
        )
        return Response(self.shown(unit_user))


class DpskExportApi(ApiView):
    """Staff: what a Wi-Fi controller pulls (API key with owner or manage-access on the property)."""

    @operation(
        "listDpskPassphrases",
        responses=DpskExportSerializer,
        tags=["portal"],
        description="Every unit user's DPSK passphrase; blocked users and guests outside their window are "
        "`active: false` (and blocked or ended ones have no passphrase).",
    )
    def get(self, request, propertyId):
        prop = property_or_404(propertyId)
        export = {
            "wifiNetworkName": selectors.portal_settings(property_id=prop.pk).wifi_network_name,
            "passphrases": selectors.dpsk_export(property_id=prop.pk),
        }
        return Response(DpskExportSerializer(export).data)
