from django.urls import path

from apps.properties import api

api_urlpatterns = [
    path("properties", api.PropertyListCreateApi.as_view()),
    path("properties/<uuid:propertyId>", api.PropertyDetailApi.as_view()),
]
