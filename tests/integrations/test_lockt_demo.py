"""seed_demo links the demo property to the Lockt emulator and polls it once (make run)."""

import socket
from io import StringIO

import pytest
from django.core.management import call_command

from apps.access.models import UserGroup
from apps.core.models import ExternalRef
from apps.integrations.demo import DEMO_ACCOUNT_NAME
from apps.integrations.models import IntegrationAccount
from apps.locks.models import Lock

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _check(account):
    assert account.status == "ok" and account.last_success_at, account.last_error
    links = ExternalRef.objects.filter(account_id=account.pk)
    assert links.filter(content_type__model="user").count() >= 4
    group = UserGroup.objects.get(pk=links.get(content_type__model="usergroup", external_id="364").object_id)
    assert group.display_name == "Office Doors" and group.members.count() == 1
    room1 = Lock.objects.get(pk=links.get(content_type__model="lock", external_id="187").object_id)
    assert any(entry.get("userGroupId") == str(group.pk) for entry in room1.area.access_list)


def test_seed_demo_serves_the_emulator_itself_when_nothing_answers_yet(settings):
    settings.KEYHOUSE_DEMO_SITE_URL = f"http://127.0.0.1:{_free_port()}"
    output = _seed()
    assert "Lockt demo account polled: succeeded" in output, output
    account = IntegrationAccount.objects.get(display_name=DEMO_ACCOUNT_NAME)
    assert account.base_url == f"{settings.KEYHOUSE_DEMO_SITE_URL}/_emulators/lockt/api/v1"
    _check(account)
    assert "Lockt demo account polled: succeeded" in _seed()  # again: same account, nothing new
    assert IntegrationAccount.objects.filter(display_name=DEMO_ACCOUNT_NAME).count() == 1


def test_seed_demo_polls_the_running_server(live_server, settings):
    settings.KEYHOUSE_DEMO_SITE_URL = live_server.url
    assert "Lockt demo account polled: succeeded" in _seed()
    _check(IntegrationAccount.objects.get(display_name=DEMO_ACCOUNT_NAME))
