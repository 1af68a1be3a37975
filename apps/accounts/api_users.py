"""DoorLock operations 21–25: users, and the user scope rules other apps reuse; and the
extensions that change one's own sign-in email."""

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from apps.access import policies
from apps.access import services as access_services
from apps.access.policies import user_named
from apps.access.selectors import user_group_list
from apps.accounts import selectors, services
from apps.accounts.serializers import (
    EmailChangeConfirmSerializer,
    EmailChangeRequestSerializer,
    NewUserSerializer,
    UserSerializer,
    UserWritableSerializer,
    grants_from_input,
)
from apps.core.api.operations import GRANTABLE_PERMISSIONS, MANAGE_ACCESS, ME, OWNER
from apps.core.api.permissions import operation
from apps.core.api.principal import ALL, Grant, Principal
from apps.core.api.throttling import AddressRateThrottle, EmailChangeRateThrottle, PrincipalRateThrottle
from apps.core.api.views import ApiView, or_404

TAGS = ["users"]
MANAGERS = frozenset({OWNER, MANAGE_ACCESS})


def user_or_404(user_id):
    return or_404(policies.user_visible(user_id=user_id, property_ids=ALL))


def user_in_scope(view: ApiView, user_id, *, property_ids=None):
    """(user, property_ids reaching them) or 404. Yourself (`me`) and unscoped grants reach
    everyone; property-scoped grants reach the people of their properties."""
    principal: Principal = view.request.user
    if principal.allows(view.permissions, user_id=user_id):
        return user_or_404(user_id), ALL
    reach = principal.property_ids_for(view.permissions - {ME})
    if property_ids is not None:
        reach = property_ids if reach is ALL else reach & property_ids
    user = policies.user_visible(user_id=user_id, property_ids=reach)
    if user is None:
        raise NotFound()
    return user, reach


def can_see_private(principal: Principal, property_id=None, user_id=None) -> bool:
    """The private part goes to the person themself and to owners / access managers."""
    if user_id is not None and principal.user_id == user_id:
        return True
    return principal.allows(MANAGERS, property_id=property_id)


def may_confer(principal: Principal, grant: Grant) -> bool:
    """The caller holds `grant` itself, or is an owner at least as broad (an owner confers
    every grantable permission within its own scope). `me` confers nothing."""
    for held in principal.grants:
        if held.permission == ME:
            continue
        if held.permission == OWNER and grant.permission in GRANTABLE_PERMISSIONS:
            held = Grant(grant.permission, held.property_id, held.user_id)
        if held.covers(grant):
            return True
    return False


def _grants_checked(view: ApiView, items) -> list | None:
    """Requested userPermissions, refused (403) unless the caller may confer each one; a
    `userId` the caller may not name is a 400, like one that does not exist."""
    if items is None:
        return None
    principal: Principal = view.request.user
    grants = grants_from_input(items)
    if any(g.permission == ME for g in grants):
        raise PermissionDenied("`me` is implicit for every user and cannot be granted")
    for grant in grants:
        if not may_confer(principal, grant):
            raise PermissionDenied(f"you cannot grant {grant.permission} beyond your own permissions")
    strangers = {
        f"userPermissions[{index}].userId": ["No such user."]
        for index, grant in enumerate(grants)
        if grant.user_id and user_named(principal, view.permissions - {ME}, grant.user_id) is None
    }
    if strangers:
        raise ValidationError(strangers)
    return grants


def check_may_administer(principal: Principal, user, reach) -> None:
    """403 unless the caller may change this person's account (sign-in email, private data,
    permissions) or delete it: themself, or a manager whose permissions cover everything the
    person holds and, when property-scoped (`reach`), every property the person is tied to.
    Otherwise a manager of one building could take over a wider account (docs/API.md)."""
    if principal.user_id == user.pk:
        return
    if user.is_staff:
        raise PermissionDenied("staff accounts are changed in the staff admin or by the person themself")
    for grant in selectors.user_grants(user_id=user.pk):
        if not may_confer(principal, grant):
            raise PermissionDenied(f"this user holds {grant.permission} beyond your permissions")
    if reach is not ALL and policies.user_tied_outside(user_id=user.pk, property_ids=reach):
        raise PermissionDenied(
            "this user also belongs to a property beyond your permissions; "
            "a manager of all of them (or the person themself) must change the account"
        )


# Model field → request path, so a model-level refusal (a taken email) names what was sent.
_REQUEST_PATHS = {
    "display_name": "displayName",
    "email": "private.email",
    "first_name": "private.firstName",
    "last_name": "private.lastName",
    "phone_number": "private.phoneNumber",
    "billing_address": "private.billingAddress",
}


@contextmanager
def _named_as_requested():
    try:
        yield
    except DjangoValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise ValidationError({_REQUEST_PATHS.get(k, k): v for k, v in errors.items()}) from None


def _private_fields(body) -> dict:
    return dict(body.get("private") or {})


def _refuse_own_email_change(principal: Principal, user, body) -> None:
    """A person changes their own sign-in email only by proving the new address, never by
    updateUser (a stolen token or an unlocked phone would otherwise take the account over)."""
    email = _private_fields(body).get("email")
    if principal.user_id == user.pk and email is not None and services.email_normalized(email) != user.email:
        raise ValidationError(
            {
                "private.email": [
                    "Your own sign-in email changes only with a code sent to the new address: "
                    "POST /api/v1/me/email (requestEmailChange), then POST /api/v1/me/email/confirm "
                    "(confirmEmailChange)."
                ]
            }
        )


def _groups_in_reach(group_ids, reach) -> list:
    groups = list(user_group_list(property_ids=reach).filter(pk__in=group_ids))
    unknown = sorted(str(i) for i in set(group_ids) - {g.pk for g in groups})
    if unknown:
        raise ValidationError({"userGroupIds": [f"Unknown group(s): {', '.join(unknown)}."]})
    return groups


class MeApi(ApiView):
    @operation("getMe", responses=UserSerializer, tags=TAGS)
    def get(self, request):
        user = user_or_404(request.user.user_id)
        return Response(UserSerializer(user, context={"show_private": True}).data)


class UserCreateApi(ApiView):
    @operation("createUser", request=NewUserSerializer, responses=UserSerializer, tags=TAGS)
    def post(self, request):
        body = self.body(NewUserSerializer)
        grants = _grants_checked(self, body.get("userPermissions"))
        private = _private_fields(body)
        reach = request.user.property_ids_for(self.permissions)
        groups = _groups_in_reach(body.get("userGroupIds", []), reach)
        with transaction.atomic(), _named_as_requested():
            user = services.user_create(
                email=private.pop("email"),
                display_name=body["displayName"],
                grants=grants,
                actor=request.user.label,
                **private,
            )
            for group in groups:
                access_services.membership_add(group=group, user=user, actor=request.user.label)
            if policies.user_visible(user_id=user.pk, property_ids=reach) is None:
                raise ValidationError(
                    {"userGroupIds": ["Name at least one group of your properties, so that you can see the new user."]}
                )
        return Response(UserSerializer(user_or_404(user.pk), context={"show_private": True}).data)


class UserDetailApi(ApiView):
    def _show(self, user):
        """The user as this caller may see them: `private` for themself and their managers."""
        principal, managers = self.request.user, self.request.user.property_ids_for(MANAGERS)
        show = (
            principal.user_id == user.pk
            or managers is ALL
            or (bool(managers) and policies.user_visible(user_id=user.pk, property_ids=managers) is not None)
        )
        return Response(UserSerializer(user_or_404(user.pk), context={"show_private": show}).data)

    @operation("getUser", responses=UserSerializer, tags=TAGS)
    def get(self, request, userId):
        return self._show(user_in_scope(self, userId)[0])

    @operation("updateUser", request=UserWritableSerializer, responses=UserSerializer, tags=TAGS)
    def put(self, request, userId):
        user, reach = user_in_scope(self, userId)
        body = self.body(UserWritableSerializer)
        check_may_administer(request.user, user, reach)
        if "userPermissions" in body and request.user.user_id == user.pk and not request.user.has_any(MANAGERS):
            raise PermissionDenied("you cannot change your own permissions")
        _refuse_own_email_change(request.user, user, body)
        grants = _grants_checked(self, body.get("userPermissions"))
        with _named_as_requested():
            services.user_update(
                user=user,
                display_name=body["displayName"],
                actor=request.user.label,
                grants=grants,
                **_private_fields(body),
            )
        return self._show(user)

    @operation("deleteUser", responses=UserSerializer, tags=TAGS)
    def delete(self, request, userId):
        user, reach = user_in_scope(self, userId)
        check_may_administer(request.user, user, reach)
        user = access_services.user_delete(user=user, actor=request.user.label)
        return Response(UserSerializer(user, context={"show_private": False}).data)


class MeEmailApi(ApiView):
    throttle_classes = [AddressRateThrottle, PrincipalRateThrottle, EmailChangeRateThrottle]

    @operation(
        "requestEmailChange",
        request=EmailChangeRequestSerializer,
        responses=None,
        tags=TAGS,
        description="Extension: mail a 6-digit code to a new sign-in email for yourself; confirm it with "
        "confirmEmailChange. Answers the same, in the same time, whether or not the address is taken "
        "(a taken address gets no code; its owner is told someone asked for it).",
    )
    def post(self, request):
        body = self.body(EmailChangeRequestSerializer)
        services.email_change_request(user_id=request.user.user_id, email=body["email"])
        return Response({})


class MeEmailConfirmApi(ApiView):
    throttle_classes = [AddressRateThrottle, PrincipalRateThrottle, EmailChangeRateThrottle]

    @operation(
        "confirmEmailChange",
        request=EmailChangeConfirmSerializer,
        responses=UserSerializer,
        tags=TAGS,
        description="Extension: make the new email your sign-in email with the code mailed to it by "
        "requestEmailChange. A wrong or expired code is a 400 naming `code`.",
    )
    def post(self, request):
        body = self.body(EmailChangeConfirmSerializer)
        user = services.email_change_confirm(
            user=user_or_404(request.user.user_id), email=body["email"], code=body["code"], actor=request.user.label
        )
        return Response(UserSerializer(user_or_404(user.pk), context={"show_private": True}).data)
