"""DoorLock operations 21–25: users, and the user scope rules other apps reuse; and the
extensions that change one's own sign-in email."""

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from apps.access import policies
from apps.access import services as access_services
from apps.access.selectors import user_group_list
from apps.accounts import services
from apps.accounts.policies import MANAGERS
from apps.accounts.serializers import (
    EmailChangeConfirmSerializer,
    EmailChangeRequestSerializer,
    NewUserSerializer,
    UserSerializer,
    UserWritableSerializer,
    grants_from_input,
)
from apps.core.api.permissions import operation
from apps.core.api.throttling import AddressRateThrottle, EmailChangeRateThrottle, PrincipalRateThrottle
from apps.core.api.views import ApiView, or_404
from apps.core.principal import ALL, Principal

TAGS = ["users"]


def user_or_404(user_id):
    return or_404(policies.user_visible(user_id=user_id, property_ids=ALL))


def user_in_scope(view: ApiView, user_id, *, property_ids=None):
    """(user, property_ids reaching them) or 404 (access.policies.user_reach)."""
    found = policies.user_reach(view.request.user, view.permissions, user_id, property_ids=property_ids)
    if found is None:
        raise NotFound()
    return found


def _grants_checked(view: ApiView, items) -> list | None:
    """Requested userPermissions, or None; refused per access.policies.check_permission_grants."""
    if items is None:
        return None
    grants = grants_from_input(items)
    policies.check_permission_grants(view.request.user, view.permissions, grants)
    return grants


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
        with _named_as_requested():
            user = access_services.user_create_in_groups(
                email=private.pop("email"),
                display_name=body["displayName"],
                grants=grants,
                groups=groups,
                reach=reach,
                actor=request.user.label,
                **private,
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
        policies.check_may_administer(request.user, user, reach)
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
        policies.check_may_administer(request.user, user, reach)
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
