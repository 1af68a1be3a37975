"""apps.integrations.http against a real loopback server: classification, retries, Retry-After,
timeouts, malformed bodies, and no secret in what it logs or raises."""

import logging
from datetime import UTC, datetime

import pytest

from apps.integrations.http import (
    AuthFailed,
    HttpClient,
    Malformed,
    RemoteError,
    Transient,
    check_base_url,
    retry_after_seconds,
)
from tests.integrations.loopback import Answer

SECRET = "hqx7wde64vwe987fvg6q4zaautrs3p7j"


def _client(remote, **kw):
    waits = []
    kw.setdefault("sleep", waits.append)
    client = HttpClient(f"{remote.url}/api/v1", secret_headers={"apikey": SECRET}, **kw)
    return client, waits


def test_a_2xx_answer_carries_the_credential_headers_and_parses_json(remote):
    remote.answer("/api/v1/about", Answer(200, {"data": {"version": "1.1.0"}}))
    client, _ = _client(remote, headers={"Content-Type": "application/json"})
    assert client.get_json("about", params={"id": "7"}) == {"data": {"version": "1.1.0"}}
    (received,) = remote.received
    assert received.headers["apikey"] == SECRET
    assert received.headers["Content-Type"] == "application/json"
    assert received.query == "id=7"


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_auth_failed_and_never_retried(remote, status):
    remote.answer("/api/v1/ping", Answer(status, {"data": [{"error": "bad key"}]}))
    client, waits = _client(remote)
    with pytest.raises(AuthFailed, match=f"GET ping: HTTP {status}"):
        client.request("GET", "ping")
    assert len(remote.received) == 1 and waits == []


def test_a_transient_get_is_retried_with_growing_waits_then_succeeds(remote):
    remote.answer("/api/v1/user", Answer(503), Answer(502), Answer(200, {"data": []}))
    client, waits = _client(remote, retries=2, retry_wait=1.0)
    assert client.get_json("user") == {"data": []}
    assert remote.paths() == ["/api/v1/user"] * 3
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0


def test_a_post_is_not_retried_it_may_have_been_applied(remote):
    remote.answer("/api/v1/user", Answer(500))
    client, waits = _client(remote, retries=2)
    with pytest.raises(Transient, match="POST user: HTTP 500"):
        client.request("POST", "user", json={"user": []})
    assert len(remote.received) == 1 and waits == []
    assert remote.received[0].body == b'{"user": []}'


def test_retry_after_is_waited_when_short_and_handed_up_when_long(remote):
    remote.answer("/api/v1/events", Answer(429, headers={"Retry-After": "3"}), Answer(200, {"data": []}))
    client, waits = _client(remote, retry_wait_max=10)
    client.get_json("events")
    assert waits[0] >= 3
    remote.answer("/api/v1/events", Answer(503, headers={"Retry-After": "120"}))
    client, waits = _client(remote, retry_wait_max=10)
    with pytest.raises(Transient) as raised:
        client.get_json("events")
    assert raised.value.retry_after == 120 and waits == []  # the account's backoff waits, not a worker


def test_a_hung_remote_times_out_as_transient(remote):
    remote.answer("/api/v1/door", Answer(200, {"data": []}, delay=1.5))
    client, _ = _client(remote, read_timeout=0.3, retries=0)
    with pytest.raises(Transient, match="GET door: timed out"):
        client.get_json("door")


def test_nobody_listening_is_transient():
    client = HttpClient("http://127.0.0.1:9/api/v1", retries=0)  # discard port: refused
    with pytest.raises(Transient, match="could not connect to 127.0.0.1:9"):
        client.request("GET", "ping")


@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"data": [', b"\xff\xfe"])
def test_a_2xx_body_that_is_not_json_is_malformed(remote, body):
    remote.answer("/api/v1/door", Answer(200, body))
    client, _ = _client(remote)
    with pytest.raises(Malformed, match="GET door: HTTP 200 body is not JSON"):
        client.get_json("door")


def test_other_4xx_is_a_remote_error_keeping_the_body_out_of_the_message(remote):
    body = {"result": ["Validation errors found."], "errors": [{"error": ["x"], "input_data": {"card_num": "8769"}}]}
    remote.answer("/api/v1/user", Answer(400, body))
    client, _ = _client(remote)
    with pytest.raises(RemoteError) as raised:
        client.request("POST", "user", json={"user": []})
    assert raised.value.status == 400 and raised.value.body == body
    assert str(raised.value) == "POST user: HTTP 400"  # the echoed card number stays out of messages


def test_logs_name_method_path_status_never_credentials_or_query(remote, caplog):
    remote.answer("/api/v1/credential", Answer(200, {"data": []}, headers={"X-Request-Id": "r-1"}))
    client, _ = _client(remote)
    with caplog.at_level(logging.DEBUG):
        client.get_json("credential", params={"card_num": "8769"})
    assert "GET credential -> 200" in caplog.text and "(id r-1)" in caplog.text
    assert SECRET not in caplog.text and "8769" not in caplog.text
    assert SECRET not in repr(client)


def test_retry_after_parses_seconds_and_http_dates():
    now = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(" 0 ") == 0
    assert retry_after_seconds("Fri, 04 Dec 2026 12:02:00 GMT", now=now) == 120
    assert retry_after_seconds("Fri, 04 Dec 2026 11:00:00 GMT", now=now) == 0  # in the past: now
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("-5") is None
    assert retry_after_seconds(None) is None


@pytest.mark.parametrize(
    ("url", "allow_http", "problem"),
    [
        ("https://cloudapi.lockt.com/api/v1/", False, None),
        ("http://127.0.0.1:8000/_emulators/lockt/api/v1", True, None),
        ("http://cloudapi.lockt.com/api/v1", False, "Must use https://"),
        ("ftp://cloudapi.lockt.com/", True, "absolute https:// URL"),
        ("cloudapi.lockt.com/api/v1", True, "absolute https:// URL"),
        ("https://u:p@cloudapi.lockt.com/api/v1", False, "Must not carry credentials"),
        ("https://cloudapi.lockt.com/api/v1?apikey=x", False, "query string"),
    ],
)
def test_base_urls_are_https_unless_allowed(url, allow_http, problem):
    if problem is None:
        assert check_base_url(url, allow_http=allow_http) == url.rstrip("/")
    else:
        with pytest.raises(ValueError, match=problem):
            check_base_url(url, allow_http=allow_http)
