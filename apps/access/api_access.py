"""Access-model extensions under a property: schedules, grants, blocks, derived access,
explain and what-if (docs/ACCESS.md). Every route is property-scoped (404 outside)."""

import re

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apps.access import policies, selectors, services
from apps.access.models import AccessGrant, LockAccessEntry, LockAccessVersion, UserAccessMap
from apps.access.policies import user_named
from apps.access.schedules import Schedule as PureSchedule
from apps.access.schedules import windows_from_json
from apps.access.serializers import (
    BlockInputSerializer,
    BlockSerializer,
    ExplainSerializer,
    GrantSerializer,
    NewGrantSerializer,
    ScheduleSerializer,
    ScheduleWritableSerializer,
    WhatIfInputSerializer,
    WhatIfSerializer,
)
from apps.areas.models import Area
from apps.core.api.permissions import operation
from apps.core.api.views import ApiView, or_404
from apps.core.exceptions import ConflictError
from apps.core.timestamps import format_timestamp
from apps.integrations.lockt.schedules import to_lockt
from apps.integrations.mapping import LossyMappingError
from apps.integrations.smartphonekey.validity import to_smartphonekey
from apps.locks.models import Lock
from apps.properties.api import property_or_404

TAGS = ["access"]
MANAGERS, READERS = policies.MANAGERS, policies.READERS


def _schedule_or_404(property_id, schedule_id):
    return or_404(selectors.schedule_list(property_id=property_id).filter(pk=schedule_id).first())


def _person(view: ApiView, name: str, user_id, *, in_path: bool = False):
    """The person a field names, if this caller may name them (access.policies.user_named);
    otherwise 404 for a path parameter, or a 400 naming the field, the same answer as for an
    id that does not exist."""
    user = user_named(view.request.user, view.permissions, user_id)
    if user is None:
        if in_path:
            raise NotFound()
        raise ValidationError({name: ["No such user." if user_id else "This field is required."]})
    return user


def _param(name: str, value, model, **filters):
    """A live object named by a body or query field, or a 400 naming that field."""
    obj = model.objects.alive().filter(pk=value, **filters).first() if value else None
    if obj is None:
        raise ValidationError({name: ["No such object in this property." if value else "This field is required."]})
    return obj


# --- schedules ---------------------------------------------------------------------------


class ScheduleListCreateApi(ApiView):
    page_items_key = "schedules"

    @operation("listSchedules", responses=ScheduleSerializer(many=True), tags=TAGS)
    def get(self, request, propertyId):
        property_or_404(propertyId)
        return self.paginated(selectors.schedule_list(property_id=propertyId), ScheduleSerializer)

    @operation("createSchedule", request=ScheduleWritableSerializer, responses=ScheduleSerializer, tags=TAGS)
    def post(self, request, propertyId):
        prop = property_or_404(propertyId)
        body = self.body(ScheduleWritableSerializer)
        schedule = services.schedule_create(
            prop=prop,
            display_name=body["displayName"],
            windows=body["windows"],
            valid_from=body.get("validFrom"),
            valid_until=body.get("validUntil"),
            actor=request.user.label,
        )
        return Response(ScheduleSerializer(_schedule_or_404(propertyId, schedule.pk)).data)


class ScheduleDetailApi(ApiView):
    @operation("getSchedule", responses=ScheduleSerializer, tags=TAGS)
    def get(self, request, propertyId, scheduleId):
        return Response(ScheduleSerializer(_schedule_or_404(propertyId, scheduleId)).data)

    @operation("updateSchedule", request=ScheduleWritableSerializer, responses=ScheduleSerializer, tags=TAGS)
    def put(self, request, propertyId, scheduleId):
        schedule = _schedule_or_404(propertyId, scheduleId)
        body = self.body(ScheduleWritableSerializer)
        services.schedule_update(
            schedule=schedule,
            display_name=body["displayName"],
            windows=body["windows"],
            valid_from=body.get("validFrom"),
            valid_until=body.get("validUntil"),
            actor=request.user.label,
        )
        return Response(ScheduleSerializer(_schedule_or_404(propertyId, scheduleId)).data)

    @operation(
        "deleteSchedule",
        responses=ScheduleSerializer,
        errors={409: "the schedule is still used (by an access-list entry or a grant)"},
        tags=TAGS,
    )
    def delete(self, request, propertyId, scheduleId):
        schedule = services.schedule_delete(schedule=_schedule_or_404(propertyId, scheduleId), actor=request.user.label)
        return Response(ScheduleSerializer(schedule).data)


class ScheduleExportApi(ApiView):
    """The schedule in a vendor's form, or a 409 saying exactly what that form would lose."""

    @operation(
        "exportSchedule",
        parameters=[OpenApiParameter("target", str, enum=["lockt", "smartphonekey"], required=True)],
        responses=inline_serializer(
            "ScheduleExport", {"target": serializers.CharField(), "schedule": serializers.DictField()}
        ),
        errors={409: "the target cannot hold this schedule as it is; `error` names what it would lose"},
        tags=TAGS,
    )
    def get(self, request, propertyId, scheduleId):
        schedule = _schedule_or_404(propertyId, scheduleId)
        target = request.query_params.get("target")
        if target not in ("lockt", "smartphonekey"):
            raise ValidationError({"target": ["Must be lockt or smartphonekey."]})
        pure = PureSchedule(
            windows=windows_from_json(schedule.windows),
            valid_from=schedule.valid_from,
            valid_until=schedule.valid_until,
        )
        try:
            mapped = to_lockt(pure, name=schedule.display_name) if target == "lockt" else to_smartphonekey(pure)
        except LossyMappingError as error:  # the schedule, not the request, is what the target cannot hold
            raise ConflictError(f"target: {error}", fields={"target": [str(error)]}) from None
        return Response({"target": target, "schedule": mapped})


# --- grants ------------------------------------------------------------------------------

GRANT_FILTERS = [
    OpenApiParameter("userId", OpenApiTypes.UUID, description="Only this person's grants."),
    OpenApiParameter("lockId", OpenApiTypes.UUID, description="Only grants on this lock."),
    OpenApiParameter("areaId", OpenApiTypes.UUID, description="Only grants on this area."),
    OpenApiParameter("active", bool, description="`true`: only grants that count now."),
]


def _is_manager(request, property_id, permissions=MANAGERS) -> bool:
    return request.user.allows(permissions, property_id=property_id)


def _grants_for(request, property_id, *, active_only=False):
    return policies.grants_visible(request.user, property_id=property_id, active_only=active_only)


class GrantListCreateApi(ApiView):
    page_items_key = "grants"

    @operation("listGrants", responses=GrantSerializer(many=True), parameters=GRANT_FILTERS, tags=TAGS)
    def get(self, request, propertyId):
        property_or_404(propertyId)
        params = request.query_params
        grants = _grants_for(request, propertyId, active_only=_flag(params, "active"))
        for name, column in (("userId", "user_id"), ("lockId", "lock_id"), ("areaId", "area_id")):
            if name in params:
                grants = grants.filter(**{column: _uuid(params, name)})
        return self.paginated(grants, GrantSerializer)

    @operation("createGrant", request=NewGrantSerializer, responses=GrantSerializer, tags=TAGS)
    def post(self, request, propertyId):
        prop = property_or_404(propertyId)
        body = self.body(NewGrantSerializer)
        user = _person(self, "userId", body["userId"])
        lock = _param("lockId", body["lockId"], Lock, property_id=propertyId) if body.get("lockId") else None
        area = _param("areaId", body["areaId"], Area, property_id=propertyId) if body.get("areaId") else None
        policies.check_may_grant(request.user, prop=prop, lock=lock, area=area, access_level=body["accessLevel"])
        grant = services.grant_create(
            prop=prop,
            user=user,
            lock=lock,
            area=area,
            access_level=body["accessLevel"],
            valid_from=body.get("validFrom"),
            valid_until=body.get("validUntil"),
            actor=request.user.label,
        )
        return Response(GrantSerializer(grant).data)


class GrantDetailApi(ApiView):
    def _grant(self, request, property_id, grant_id) -> AccessGrant:
        return or_404(_grants_for(request, property_id).filter(pk=grant_id).first())

    @operation("getGrant", responses=GrantSerializer, tags=TAGS)
    def get(self, request, propertyId, grantId):
        return Response(GrantSerializer(self._grant(request, propertyId, grantId)).data)

    @operation("revokeGrant", responses=GrantSerializer, tags=TAGS)
    def delete(self, request, propertyId, grantId):
        grant = self._grant(request, propertyId, grantId)
        policies.check_may_revoke(request.user, grant=grant)
        return Response(GrantSerializer(services.grant_revoke(grant=grant, actor=request.user.label)).data)


# --- blocks ------------------------------------------------------------------------------


class BlockListApi(ApiView):
    page_items_key = "blocks"

    @operation("listBlocks", responses=BlockSerializer(many=True), tags=TAGS)
    def get(self, request, propertyId):
        property_or_404(propertyId)
        return self.paginated(selectors.block_list(property_id=propertyId), BlockSerializer)


class BlockDetailApi(ApiView):
    @operation("blockUser", request=BlockInputSerializer, responses=BlockSerializer, tags=TAGS)
    def put(self, request, propertyId, userId):
        prop = property_or_404(propertyId)
        body = self.body(BlockInputSerializer)
        user = _person(self, "userId", userId, in_path=True)
        block, _ = services.block_create(prop=prop, user=user, reason=body["reason"], actor=request.user.label)
        return Response(BlockSerializer(block).data)

    @operation("unblockUser", responses=None, tags=TAGS)
    def delete(self, request, propertyId, userId):
        prop = property_or_404(propertyId)
        services.block_delete(prop=prop, user=_person(self, "userId", userId, in_path=True), actor=request.user.label)
        return Response({})


# --- derived access, explain, what-if ----------------------------------------------------

# Where a derived line or entry comes from (docs/ACCESS.md "Derived access", apps/access/compute.py).
LOCK_LINE_SOURCE = (
    "Why the lock has this line: `accessList:<areaId>:<index>` (entry <index>, from 0, of that "
    "area's access list), `areaGroup:<areaId>` (the members of that area's own group), "
    "`grant:<grantId>` or `block:<userId>`."
)
USER_ENTRY_SOURCE = (
    "Why the person may open this lock: `group:<userGroupId>|<lock line source>` (a member of "
    "that group, through that lock line; see getLockAccess) or `grant:<grantId>`."
)

LINE_FIELDS = {
    "kind": serializers.ChoiceField(choices=["group", "user", "open", "deny"]),
    "subjectId": serializers.UUIDField(allow_null=True),
    "scheduleId": serializers.UUIDField(allow_null=True),
    "validFrom": serializers.CharField(allow_null=True),
    "validUntil": serializers.CharField(allow_null=True),
    "source": serializers.CharField(help_text=LOCK_LINE_SOURCE),
}
ENTRY_FIELDS = {
    "lockId": serializers.UUIDField(),
    "scheduleId": serializers.UUIDField(allow_null=True),
    "validFrom": serializers.CharField(allow_null=True),
    "validUntil": serializers.CharField(allow_null=True),
    "source": serializers.CharField(help_text=USER_ENTRY_SOURCE),
}


class LockAccessApi(ApiView):
    @operation(
        "getLockAccess",
        responses=inline_serializer(
            "LockAccess",
            {
                "lockId": serializers.UUIDField(),
                "keyMapVersion": serializers.IntegerField(
                    help_text="Version of the lock's derived access lines (0 until first derived); rises only "
                    "when their content changes. Not the version of the signed key map the lock downloads "
                    "(Lock `private.keyMapVersion`)."
                ),
                "lines": inline_serializer("LockAccessLine", LINE_FIELDS, many=True),
            },
        ),
        tags=TAGS,
    )
    def get(self, request, propertyId, lockId):
        property_or_404(propertyId)
        if not Lock.objects.alive().filter(pk=lockId, property_id=propertyId).exists():
            raise NotFound()
        derived = LockAccessVersion.objects.filter(lock_id=lockId).first()
        lines = [
            {
                "kind": row.kind,
                "subjectId": row.subject_id,
                "scheduleId": row.schedule_id,
                "validFrom": format_timestamp(row.valid_from) if row.valid_from else None,
                "validUntil": format_timestamp(row.valid_until) if row.valid_until else None,
                "source": row.source,
            }
            for row in LockAccessEntry.objects.filter(lock_id=lockId, property_id=propertyId).order_by("id")
        ]
        return Response({"lockId": lockId, "keyMapVersion": derived.version if derived else 0, "lines": lines})


class UserAccessApi(ApiView):
    @operation(
        "getUserAccess",
        responses=inline_serializer(
            "UserAccess",
            {
                "userId": serializers.UUIDField(),
                "propertyId": serializers.UUIDField(),
                "accessMapVersion": serializers.IntegerField(),
                "entries": inline_serializer("UserAccessEntry", ENTRY_FIELDS, many=True),
            },
        ),
        tags=TAGS,
    )
    def get(self, request, propertyId, userId):
        property_or_404(propertyId)
        if not _is_manager(request, propertyId, READERS) and request.user.user_id != userId:
            raise NotFound()
        _person(self, "userId", userId, in_path=True)
        access_map = UserAccessMap.objects.filter(user_id=userId, property_id=propertyId).first()
        return Response(
            {
                "userId": userId,
                "propertyId": propertyId,
                "accessMapVersion": access_map.version if access_map else 0,
                "entries": access_map.entries if access_map else [],
            }
        )


EXPLAIN_PARAMS = [
    OpenApiParameter("userId", OpenApiTypes.UUID, required=True),
    OpenApiParameter("lockId", OpenApiTypes.UUID, required=True),
    OpenApiParameter("at", OpenApiTypes.DATETIME, description="Instant to evaluate (RFC 3339 date-time, default now)."),
]


class ExplainApi(ApiView):
    @operation("explainAccess", responses=ExplainSerializer, parameters=EXPLAIN_PARAMS, tags=TAGS)
    def get(self, request, propertyId):
        prop = property_or_404(propertyId)
        params = request.query_params
        user = _person(self, "userId", _uuid(params, "userId"))
        lock = _param("lockId", _uuid(params, "lockId"), Lock, property_id=propertyId)
        at = timezone.now()
        if params.get("at"):
            try:
                at = serializers.DateTimeField().to_internal_value(params["at"])
            except serializers.ValidationError as error:
                raise ValidationError({"at": error.detail}) from None
        return Response(ExplainSerializer(selectors.access_explain(prop=prop, user=user, lock=lock, at=at)).data)


def _uuid(params, name):
    import uuid

    value = params.get(name)
    if not value:
        raise ValidationError({name: ["This field is required."]})
    if not UUID_RE.fullmatch(value):  # the schema's `format: uuid`: hyphenated, nothing around it
        raise ValidationError({name: ["Must be a valid UUID."]})
    return uuid.UUID(value)


UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _flag(params, name) -> bool:
    """A boolean query parameter: absent is false, `true`/`false` as the schema says, else 400."""
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise ValidationError({name: ["Must be true or false."]})
    return value == "true"


class WhatIfApi(ApiView):
    @operation("whatIfAccess", request=WhatIfInputSerializer, responses=WhatIfSerializer, tags=TAGS)
    def post(self, request, propertyId):
        prop = property_or_404(propertyId)
        body = self.body(WhatIfInputSerializer)
        for index, change in enumerate(body["changes"]):
            if "userId" in change:
                _person(self, f"changes[{index}].userId", change["userId"])
        changes = [{k: (str(v) if hasattr(v, "hex") else v) for k, v in c.items()} for c in body["changes"]]
        return Response(WhatIfSerializer(selectors.access_what_if(prop=prop, changes=changes)).data)
