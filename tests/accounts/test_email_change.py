"""Changing one's own sign-in email: a code mailed to the new address proves it
(requestEmailChange, confirmEmailChange; docs/API.md "Authentication")."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import tasks
from apps.accounts.models import SignInCode, User
from apps.core.api.throttling import EmailChangeRateThrottle
from apps.core.principal import Grant
from apps.events.models import Event
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _eager_and_fast(settings):
    """The mail is sent by a task: run it inline even where REDIS_URL is set (CI phase 2)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def rae():
    return d.user_create(email="rae@example.test", password=PASSWORD)


def _signed_in(user) -> APIClient:
    response = APIClient().post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD}, format="json")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {d.ok(response)['token']}")
    return client


def _request(client, email):
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):  # the task is enqueued after commit
        return client.post("/api/v1/me/email", {"email": email}, format="json")


def _confirm(client, email, code):
    return client.post("/api/v1/me/email/confirm", {"email": email, "code": code}, format="json")


def _code(message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_the_code_mailed_to_the_new_address_makes_it_the_sign_in_email(rae):
    client = _signed_in(rae)

    assert d.ok(_request(client, "Rae.New@Example.TEST")) == {}

    [message] = mail.outbox
    assert message.to == ["rae.new@example.test"]
    assert User.objects.get(pk=rae.pk).email == "rae@example.test"  # not before the code comes back
    data = d.ok(_confirm(client, "rae.new@example.test", _code(message)))
    assert (data["userId"], data["private"]["email"]) == (str(rae.pk), "rae.new@example.test")
    event = Event.objects.get(event_name="user.updated", user_id=rae.pk)
    assert (event.payload, event.last_modified_by) == ({"changed": ["email"]}, f"user:{rae.pk}")
    # signing in now takes the new address, and the old one is nobody's
    for email, status in (("rae.new@example.test", 200), ("rae@example.test", 401)):
        response = APIClient().post("/api/v1/auth/token", {"email": email, "password": PASSWORD}, format="json")
        assert response.status_code == status
    # the code is used up
    body = d.refused(_confirm(client, "rae.new@example.test", _code(message)), 400)
    assert list(body["data"]["fields"]) == ["code"]


def test_the_previous_address_is_told_of_the_change(rae):
    client = _signed_in(rae)
    _request(client, "new@example.test")
    code = _code(mail.outbox[0])
    mail.outbox.clear()

    with TestCase.captureOnCommitCallbacks(execute=True):
        d.ok(_confirm(client, "new@example.test", code))

    [notice] = mail.outbox
    assert notice.to == ["rae@example.test"]
    assert "sign-in email" in notice.subject and "If it wasn't you" in notice.body
    assert "new@example.test" not in notice.body


def test_a_wrong_code_is_a_400_naming_code_and_counts_against_the_code(rae, settings):
    settings.KEYHOUSE_SIGN_IN_CODE_MAX_ATTEMPTS = 3
    client = _signed_in(rae)
    _request(client, "new@example.test")
    code = _code(mail.outbox[0])

    for _ in range(3):
        body = d.refused(_confirm(client, "new@example.test", _wrong(code)), 400)
        assert list(body["data"]["fields"]) == ["code"]
    # out of attempts: even the right code is refused now, with the same answer
    assert d.refused(_confirm(client, "new@example.test", code), 400) == body
    assert User.objects.get(pk=rae.pk).email == "rae@example.test"
    assert not Event.objects.filter(event_name="user.updated").exists()


def test_a_code_confirms_only_the_address_it_was_sent_to(rae):
    client = _signed_in(rae)
    _request(client, "mine@example.test")
    code = _code(mail.outbox[0])

    body = d.refused(_confirm(client, "someone-else@example.test", code), 400)

    assert list(body["data"]["fields"]) == ["code"]
    assert User.objects.get(pk=rae.pk).email == "rae@example.test"


def test_an_expired_code_is_refused(rae):
    client = _signed_in(rae)
    _request(client, "new@example.test")
    SignInCode.objects.filter(user=rae).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    d.refused(_confirm(client, "new@example.test", _code(mail.outbox[0])), 400)

    assert User.objects.get(pk=rae.pk).email == "rae@example.test"


def test_an_address_taken_between_request_and_confirmation_is_refused(rae):
    client = _signed_in(rae)
    _request(client, "new@example.test")
    d.user_create(email="new@example.test")  # someone else got there first

    body = d.refused(_confirm(client, "new@example.test", _code(mail.outbox[0])), 400)

    assert list(body["data"]["fields"]) == ["email"]
    assert User.objects.get(pk=rae.pk).email == "rae@example.test"
    assert not Event.objects.filter(event_name="user.updated").exists()


def test_a_sign_in_code_and_an_email_change_code_do_not_cancel_each_other(rae):
    client = _signed_in(rae)
    _request(client, "new@example.test")
    change_code = _code(mail.outbox[0])
    with TestCase.captureOnCommitCallbacks(execute=True):
        d.ok(APIClient().post("/api/v1/auth/code", {"email": "rae@example.test"}, format="json"))
    sign_in_code = _code(mail.outbox[-1])

    body = {"email": "rae@example.test", "code": sign_in_code}
    d.ok(APIClient().post("/api/v1/auth/token", body, format="json"))
    d.ok(_confirm(client, "new@example.test", change_code))


def _request_in_the_web_process(client, email):
    """What one email-change request does before it answers: answer, queries, the callbacks it
    leaves for after commit, mail sent (none, it should be)."""
    mail.outbox.clear()
    with (
        CaptureQueriesContext(connection) as queries,
        TestCase.captureOnCommitCallbacks(execute=False) as callbacks,
    ):
        response = client.post("/api/v1/me/email", {"email": email}, format="json")
    # the token check compares with the time of the call; any other literal (the email) stays
    sql = [re.sub(r"'\d{4}-\d\d-\d\d[ T][\d:.+]+'", "'<now>'", q["sql"]) for q in queries]
    return (response.status_code, response.json()), sql, callbacks, list(mail.outbox)


def test_a_taken_address_gets_the_same_answer_no_code_and_its_owner_is_told(rae, monkeypatch):
    owner = d.user_create(email="taken@example.test")
    client = _signed_in(rae)
    d.ok(client.get("/api/v1/me"))  # the token's first use records lastUsedAt: not part of the comparison

    free = _request_in_the_web_process(client, "free@example.test")
    taken = _request_in_the_web_process(client, "Taken@example.test")

    assert free[0] == taken[0] == (200, {"success": True, "error": None, "data": {}, "eventIds": []})
    assert free[1] == taken[1]  # the same queries: no lookup of the address in the request
    assert free[3] == taken[3] == []  # no mail in the request
    assert len(free[2]) == len(taken[2]) == 1
    enqueued = []
    real_delay = tasks.email_change_code_send.delay
    monkeypatch.setattr(tasks.email_change_code_send, "delay", lambda *a: enqueued.append(a) or real_delay(*a))

    free[2][0]()  # the worker's part (eager here)
    assert [m.to for m in mail.outbox] == [["free@example.test"]]
    assert re.search(r"\b\d{6}\b", mail.outbox[0].body)
    mail.outbox.clear()
    taken[2][0]()
    assert enqueued == [(str(rae.pk), "free@example.test"), (str(rae.pk), "Taken@example.test")]  # one task each
    [notice] = mail.outbox
    assert notice.to == [owner.email]
    assert "another Keyhouse account" in notice.body and "If it wasn't you, ignore this" in notice.body
    assert not re.search(r"\b\d{6}\b", notice.body)  # no code, to anyone
    assert not SignInCode.objects.filter(email="taken@example.test").exists()
    # and no code can take it
    body = d.refused(_confirm(client, "taken@example.test", "123456"), 400)
    assert list(body["data"]["fields"]) == ["code"]
    assert User.objects.get(pk=owner.pk).email == "taken@example.test"


def test_asking_for_ones_current_address_mails_nothing(rae):
    d.ok(_request(_signed_in(rae), "RAE@example.test"))
    assert mail.outbox == []


def test_bodies_are_validated(rae):
    client = _signed_in(rae)
    body = d.refused(client.post("/api/v1/me/email", {"email": "not-an-email"}, format="json"), 400)
    assert list(body["data"]["fields"]) == ["email"]
    body = d.refused(_confirm(client, "new@example.test", "12345"), 400)
    assert list(body["data"]["fields"]) == ["code"]


def test_only_a_signed_in_person_may_change_their_email(rae, client_for):
    d.refused(APIClient().post("/api/v1/me/email", {"email": "x@example.test"}, format="json"), 401)
    owner_key, _ = client_for("owner")  # an API key is nobody's `me`
    d.refused(owner_key.post("/api/v1/me/email", {"email": "x@example.test"}, format="json"), 403)
    d.refused(_confirm(owner_key, "x@example.test", "123456"), 403)


def test_requests_and_confirmations_are_throttled_per_person(rae, monkeypatch, one_throttle_window):
    monkeypatch.setattr(EmailChangeRateThrottle, "THROTTLE_RATES", {"email_change": "3/min"})
    client = _signed_in(rae)
    statuses = [_request(client, "new@example.test").status_code for _ in range(2)]
    statuses.append(_confirm(client, "new@example.test", "000000").status_code)
    statuses.append(_request(client, "new@example.test").status_code)
    assert statuses == [200, 200, 400, 429]
    other = d.user_create(email="other@example.test", password=PASSWORD)
    assert _request(_signed_in(other), "new2@example.test").status_code == 200  # their own budget


def _update(client, user, email, display_name="Renamed"):
    private = {"firstName": "", "lastName": "", "email": email, "phoneNumber": "", "billingAddress": None}
    return client.put(f"/api/v1/users/{user.pk}", {"displayName": display_name, "private": private}, format="json")


def test_update_user_refuses_a_new_email_from_the_person_themself(rae):
    client = _signed_in(rae)

    body = d.refused(_update(client, rae, "mine@example.test"), 400)

    assert list(body["data"]["fields"]) == ["private.email"]
    assert "requestEmailChange" in body["error"] and "confirmEmailChange" in body["error"]
    rae.refresh_from_db()
    assert rae.email == "rae@example.test" and rae.display_name != "Renamed"  # nothing changed
    assert not Event.objects.filter(event_name="user.updated").exists()
    # the rest of the profile still changes with the email as it is (in any case)
    assert d.ok(_update(client, rae, "RAE@example.test"))["displayName"] == "Renamed"


def test_a_manager_is_refused_their_own_email_but_changes_other_peoples(rae):
    manager = d.user_create(email="manager@example.test", password=PASSWORD, grants=[Grant("owner")])
    client = _signed_in(manager)

    d.refused(_update(client, manager, "boss@example.test"), 400)
    assert (
        d.ok(_update(client, rae, "rae.by.manager@example.test"))["private"]["email"] == "rae.by.manager@example.test"
    )

    assert User.objects.get(pk=manager.pk).email == "manager@example.test"
