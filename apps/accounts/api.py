"""API-key management and mobile sign-in (Keyhouse extensions; docs/API.md)."""

from django.shortcuts import get_object_or_404
from rest_framework.response import Response

from apps.accounts import selectors, services
from apps.accounts.serializers import (
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    AuthTokenCreateSerializer,
    AuthTokenSerializer,
    NewApiKeySerializer,
    SignInCodeRequestSerializer,
    grants_from_input,
)
from apps.core.api.pagination import PageTokenPagination
from apps.core.api.permissions import operation
from apps.core.api.throttling import AddressRateThrottle, PrincipalRateThrottle, SignInRateThrottle
from apps.core.api.views import ApiView


class ApiKeyListCreateApi(ApiView):
    pagination_class = PageTokenPagination
    page_items_key = "apiKeys"

    @operation("listApiKeys", responses=ApiKeySerializer(many=True), tags=["api-keys"])
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.api_key_list(), request, view=self)
        return paginator.get_paginated_response(ApiKeySerializer(page, many=True).data)

    @operation("createApiKey", request=ApiKeyCreateSerializer, responses=NewApiKeySerializer, tags=["api-keys"])
    def post(self, request):
        body = ApiKeyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        api_key, secret = services.api_key_create(
            display_name=body.validated_data["displayName"],
            grants=grants_from_input(body.validated_data["apiPermissions"]),
            actor=request.user.label,
        )
        api_key.secret = secret
        return Response(NewApiKeySerializer(api_key).data)


class ApiKeyDetailApi(ApiView):
    @operation("getApiKey", responses=ApiKeySerializer, tags=["api-keys"])
    def get(self, request, apiKeyId):
        return Response(ApiKeySerializer(get_object_or_404(selectors.api_key_list(), pk=apiKeyId)).data)

    @operation("revokeApiKey", responses=ApiKeySerializer, tags=["api-keys"])
    def delete(self, request, apiKeyId):
        api_key = get_object_or_404(selectors.api_key_list(), pk=apiKeyId)
        api_key = services.api_key_revoke(api_key=api_key, actor=request.user.label)
        return Response(ApiKeySerializer(api_key).data)


class SignInCodeApi(ApiView):
    authentication_classes = []
    throttle_classes = [AddressRateThrottle, SignInRateThrottle]

    @operation(
        "requestSignInCode",
        request=SignInCodeRequestSerializer,
        responses=None,
        tags=["auth"],
        description="Email a one-time 6-digit sign-in code. Answers the same, in the same time, whether or "
        "not the email is known: the lookup and the mail happen on the worker.",
    )
    def post(self, request):
        body = SignInCodeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.sign_in_code_request(email=body.validated_data["email"])
        return Response({})


class AuthTokenApi(ApiView):
    throttle_classes = [AddressRateThrottle, SignInRateThrottle]

    def get_throttles(self):
        # Signing out guesses nothing: the ordinary per-address and per-credential limits, not
        # the tight sign-in one (a person who just signed in from a busy address must not get
        # 429 trying to sign out).
        if self.request.method == "DELETE":
            return [AddressRateThrottle(), PrincipalRateThrottle()]
        return super().get_throttles()

    @operation(
        "createAuthToken",
        request=AuthTokenCreateSerializer,
        responses=AuthTokenSerializer,
        auth=[],  # signing in needs no credential (the view authenticates only DELETE)
        tags=["auth"],
        description="Sign in with email + password, or email + one-time code; returns a token with the "
        "`me` permission (plus the user's own grants).",
    )
    def post(self, request):
        body = AuthTokenCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, secret = services.user_token_create(**body.validated_data)
        return Response(
            AuthTokenSerializer({"token": secret, "userId": token.user_id, "expiresAt": token.expires_at}).data
        )

    @operation(
        "revokeAuthToken", responses=None, tags=["auth"], description="Sign out: revoke the token used for this call."
    )
    def delete(self, request):
        services.user_token_revoke(token=request.auth)
        return Response({})

    def perform_authentication(self, request):
        # Lazy: signing in needs no credential (a stale one must not block it); signing out
        # authenticates when the permission check reads request.user.
        pass
