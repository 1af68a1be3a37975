from django.urls import path

from apps.accounts import api

api_urlpatterns = [
    path("api-keys", api.ApiKeyListCreateApi.as_view()),
    path("api-keys/<uuid:apiKeyId>", api.ApiKeyDetailApi.as_view()),
    path("auth/code", api.SignInCodeApi.as_view()),
    path("auth/token", api.AuthTokenApi.as_view()),
]

from apps.accounts import api_users  # noqa: E402

api_urlpatterns += [
    path("me", api_users.MeApi.as_view()),
    path("me/email", api_users.MeEmailApi.as_view()),
    path("me/email/confirm", api_users.MeEmailConfirmApi.as_view()),
    path("users", api_users.UserCreateApi.as_view()),
    path("users/<uuid:userId>", api_users.UserDetailApi.as_view()),
]
