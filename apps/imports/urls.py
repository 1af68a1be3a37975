from django.urls import path

from apps.imports import api

api_urlpatterns = [
    path("properties/<uuid:propertyId>/imports", api.ImportListCreateApi.as_view()),
    path("properties/<uuid:propertyId>/imports/<uuid:importId>", api.ImportDetailApi.as_view()),
    path("properties/<uuid:propertyId>/imports/<uuid:importId>/operations", api.ImportOperationListApi.as_view()),
    path("properties/<uuid:propertyId>/imports/<uuid:importId>/apply", api.ImportApplyApi.as_view()),
    path("properties/<uuid:propertyId>/imports/<uuid:importId>/cancel", api.ImportCancelApi.as_view()),
    path("properties/<uuid:propertyId>/exports/<str:kind>", api.ExportApi.as_view()),
]
