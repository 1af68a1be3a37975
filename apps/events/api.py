"""DoorLock operations 46–47: the event log and re-processing an event."""

from rest_framework.exceptions import APIException
from rest_framework.response import Response

from apps.core.api.pagination import NewestFirstPagination
from apps.core.api.permissions import operation
from apps.core.api.schema import filter_parameters
from apps.core.api.views import ApiView, or_404
from apps.events import selectors, services
from apps.events.filters import EventFilterSet
from apps.events.registry import event_sources
from apps.events.serializers import EventSerializer

TAGS = ["events"]


class EventBusy(APIException):
    status_code = 409
    default_detail = "this event is being processed right now; try again in a moment"


def event_or_404(view, event_id):
    return or_404(selectors.event_get(event_id=event_id, property_ids=view.property_scope()))


class EventListApi(ApiView):
    pagination_class = NewestFirstPagination
    page_items_key = "events"

    @operation(
        "listEvents",
        responses=EventSerializer(many=True),
        parameters=filter_parameters(
            EventFilterSet,
            append={"eventSource": " Declared sources: " + ", ".join(f"`{s}`" for s in sorted(event_sources())) + "."},
        ),
        tags=TAGS,
        description=(
            "The event log, newest first, paged with pageToken/pageSize. A property-scoped key sees only "
            "events of its properties."
        ),
    )
    def get(self, request):
        events = selectors.event_list(property_ids=self.property_scope())
        return self.paginated(self.filtered(EventFilterSet, events), EventSerializer)


class EventProcessApi(ApiView):
    @operation(
        "triggerEventProcessing",
        request=None,
        responses=EventSerializer,
        tags=TAGS,
        description=(
            "Run the event's handlers again now, in this request (handlers are idempotent), and return the "
            "resulting processing state. 409 while a worker is processing it."
        ),
    )
    def put(self, request, eventId):
        event = event_or_404(self, eventId)
        processed = services.event_process(event_id=event.pk, force=True, actor=request.user.label)
        if processed is None:
            raise EventBusy()
        return Response(EventSerializer(processed).data)
