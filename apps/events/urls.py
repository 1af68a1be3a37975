from django.urls import path

from apps.events import api

api_urlpatterns = [
    path("events", api.EventListApi.as_view()),
    path("events/<uuid:eventId>/process", api.EventProcessApi.as_view()),
]
