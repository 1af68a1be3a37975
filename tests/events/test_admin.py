"""Staff admin for events: filters (source, processed, failing), read-only processing fields,
and the "process again" action through the service."""

import re

import pytest

from apps.events.models import Event
from apps.events.services import event_process
from tests.events.helpers import FLAKY, event_add

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/events/event/"


def listed(page: str) -> set[str]:
    return set(re.findall(r'name="_selected_action" value="([0-9a-f-]{36})"', page))


@pytest.fixture
def events(flaky):
    waiting = event_add(FLAKY)
    done = event_add(FLAKY)
    event_process(event_id=done.pk)
    failing = event_add(FLAKY)
    Event.objects.filter(pk=failing.pk).update(attempts=7, last_error="RuntimeError: down")
    area = event_add("area.moved")
    return {"waiting": waiting, "done": done, "failing": failing, "area": area}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("event_source=area", {"area"}),
        ("processed_at__isempty=1", {"waiting", "failing", "area"}),  # the dashboard's "waiting" link
        ("processed_at__isempty=0", {"done"}),
        ("failing=yes", {"failing"}),
        ("failing=no", {"waiting", "done", "area"}),
    ],
)
def test_list_filters(staff_client, events, query, expected):
    response = staff_client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    mine = {str(e.pk): name for name, e in events.items()}
    assert {mine[pk] for pk in listed(response.content.decode()) if pk in mine} == expected


def test_the_event_page_is_read_only_and_shows_the_processing_state(staff_client, events):
    page = staff_client.get(f"{CHANGELIST}{events['failing'].pk}/change/").content.decode()
    assert "RuntimeError: down" in page
    for label in ("Processed at", "Attempts", "Last error", "Next attempt at", "Failing"):
        assert label in page
    assert "<textarea" not in page and 'type="submit" value="Save"' not in page


def test_process_again_action_calls_the_service(staff_client, events, flaky):
    flaky.failures = 0
    response = staff_client.post(
        CHANGELIST,
        {"action": "process_again", "_selected_action": [str(events["failing"].pk), str(events["done"].pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Processed 2 event(s)." in response.content.decode()
    failing = Event.objects.get(pk=events["failing"].pk)
    assert failing.processed_at is not None and failing.last_error == "" and failing.attempts == 8
    assert Event.objects.get(pk=events["done"].pk).attempts == 2


def test_process_again_reports_failures(staff_client, events, flaky):
    flaky.failures = 1
    response = staff_client.post(
        CHANGELIST, {"action": "process_again", "_selected_action": [str(events["waiting"].pk)]}, follow=True
    )
    assert "1 event(s) failed again" in response.content.decode()
    assert Event.objects.get(pk=events["waiting"].pk).last_error.startswith("RuntimeError")
