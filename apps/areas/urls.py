from django.urls import path

from apps.areas import api

api_urlpatterns = [
    path("properties/<uuid:propertyId>/areas", api.AreaListCreateApi.as_view()),
    path("properties/<uuid:propertyId>/areas/<uuid:areaId>", api.AreaDetailApi.as_view()),
]
