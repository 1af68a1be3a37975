"""Mobile-app sign-in: password or emailed one-time code → expiring, revocable user token."""

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
from apps.accounts.models import UserToken
from apps.events.models import Event
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(settings):
    """The code mail is sent by a task: run it inline even where REDIS_URL is set (CI phase 2)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def resident():
    return UserFactory(email="rae@example.test", password="correct horse battery")


def _sign_in(**body):
    return APIClient().post("/api/v1/auth/token", body, format="json")


def _as(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_password_sign_in_returns_a_user_bound_expiring_token(resident):
    response = _sign_in(email="RAE@example.test", password="correct horse battery")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["token"].startswith("khu_")
    assert data["userId"] == str(resident.pk)
    expires = dt.datetime.fromisoformat(data["expiresAt"].replace("Z", "+00:00"))
    assert expires > timezone.now() + dt.timedelta(days=1)
    assert Event.objects.filter(event_name="auth_token.created", user_id=resident.pk).count() == 1


def test_wrong_password_and_unknown_email_look_the_same(resident):
    wrong = _sign_in(email="rae@example.test", password="nope")
    unknown = _sign_in(email="who@example.test", password="nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"] == unknown.json()["error"]


def test_password_and_code_together_is_400(resident):
    response = _sign_in(email="rae@example.test", password="x", code="123456")
    assert response.status_code == 400
    assert "password" in response.json()["data"]["fields"]


def test_user_token_has_me_only_and_cannot_manage_keys(resident):
    token = _sign_in(email="rae@example.test", password="correct horse battery").json()["data"]["token"]
    assert _as(token).get("/api/v1/api-keys").status_code == 403


def test_sign_out_revokes_the_token(resident):
    token = _sign_in(email="rae@example.test", password="correct horse battery").json()["data"]["token"]
    assert _as(token).delete("/api/v1/auth/token").status_code == 200
    assert _as(token).delete("/api/v1/auth/token").status_code == 401


def test_expired_token_is_401(resident):
    token = _sign_in(email="rae@example.test", password="correct horse battery").json()["data"]["token"]
    UserToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _as(token).delete("/api/v1/auth/token").status_code == 401


def _request_code(email="rae@example.test") -> str | None:
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):  # the task is enqueued after commit
        response = APIClient().post("/api/v1/auth/code", {"email": email}, format="json")
    assert response.status_code == 200
    if not mail.outbox:
        return None
    return re.search(r"\b(\d{6})\b", mail.outbox[0].body).group(1)


def test_one_time_code_signs_in_once(resident):
    code = _request_code()
    assert mail.outbox[0].to == ["rae@example.test"]
    assert _sign_in(email="rae@example.test", code=code).status_code == 200
    assert _sign_in(email="rae@example.test", code=code).status_code == 401  # used up


def test_code_request_for_unknown_email_sends_nothing_but_answers_the_same():
    assert _request_code("ghost@example.test") is None


def test_code_locks_after_too_many_wrong_guesses(resident, settings):
    settings.KEYHOUSE_SIGN_IN_CODE_MAX_ATTEMPTS = 3
    code = _request_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        assert _sign_in(email="rae@example.test", code=wrong).status_code == 401
    assert _sign_in(email="rae@example.test", code=code).status_code == 401


def test_a_new_code_replaces_the_previous_one(resident):
    first = _request_code()
    second = _request_code()
    if first != second:
        assert _sign_in(email="rae@example.test", code=first).status_code == 401
    assert _sign_in(email="rae@example.test", code=second).status_code == 200


def _code_request_in_the_web_process(email):
    """What one code request does before it answers: its answer, its queries, the callbacks
    it leaves for after commit, and the mail it sent (none, it should be)."""
    mail.outbox.clear()
    with (
        CaptureQueriesContext(connection) as queries,
        TestCase.captureOnCommitCallbacks(execute=False) as callbacks,
    ):
        response = APIClient().post("/api/v1/auth/code", {"email": email}, format="json")
    assert response.status_code == 200
    return response.json(), [q["sql"] for q in queries], callbacks, list(mail.outbox)


def test_a_code_request_does_the_same_for_a_known_and_an_unknown_email(resident, monkeypatch):
    known = _code_request_in_the_web_process("rae@example.test")
    unknown = _code_request_in_the_web_process("ghost@example.test")

    (known_body, known_sql, known_callbacks, known_mail) = known
    (unknown_body, unknown_sql, unknown_callbacks, unknown_mail) = unknown
    assert known_body == unknown_body
    assert known_sql == unknown_sql  # no lookup in the request: nothing to time
    assert known_mail == unknown_mail == []
    assert len(known_callbacks) == len(unknown_callbacks) == 1

    enqueued = []
    real_delay = tasks.sign_in_code_send.delay
    monkeypatch.setattr(tasks.sign_in_code_send, "delay", lambda *a: enqueued.append(a) or real_delay(*a))
    known_callbacks[0]()  # the worker's part (eager here)
    assert enqueued == [("rae@example.test",)]
    assert [m.to for m in mail.outbox] == [["rae@example.test"]]
    assert re.search(r"\b\d{6}\b", mail.outbox[0].body)
    unknown_callbacks[0]()
    assert enqueued == [("rae@example.test",), ("ghost@example.test",)]  # the same single task
    assert len(mail.outbox) == 1  # and the unknown email got nothing
