from django.urls import path

from apps.accounts import api

api_urlpatterns = [
    path("api-keys", api.ApiKeyListCreateApi.as_view()),
    path("api-keys/<uuid:apiKeyId>", api.ApiKeyDetailApi.as_view()),
    path("auth/code", api.SignInCodeApi.as_view()),
    path("auth/token", api.AuthTokenApi.as_view()),
]
