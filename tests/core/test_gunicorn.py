"""What gunicorn itself refuses, against a real gunicorn on a loopback port started with the
project's config file (config/gunicorn.py), as `make serve-prod` and the bench start it:
every refusal is the JSON envelope with gunicorn's status, never its HTML page."""

import http.client
import json
import os
import socket

import pytest

from tests.gunicorn_process import gunicorn_command, gunicorn_running

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw request bytes; return (status, headers, body) of the answer."""
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def request(method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {HOST}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`gunicorn -c config/gunicorn.py config.wsgi:application` on a free loopback port (one worker,
    a throwaway var/ and database: nothing here reaches the database)."""
    var = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    command = gunicorn_command("config.wsgi:application", port, workers=1, host=HOST)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KEYHOUSE_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
    }
    log_path = var / "gunicorn.log"

    def ready() -> bool:
        return exchange(port, request("GET", "/api/v1/no-such-thing"))[0] == 404

    with gunicorn_running(command, env, log_path, ready):
        yield port


def enveloped(answer, status: int) -> str:
    """The `error` of a JSON envelope answer with `status`; never HTML."""
    got, headers, body = answer
    assert got == status, (got, body[:300])
    assert headers["content-type"] == "application/json"
    assert b"<html" not in body.lower()
    envelope = json.loads(body)
    assert set(envelope) == {"success", "error", "data"}
    assert envelope["success"] is False and envelope["data"] == {}
    return envelope["error"]


def test_a_request_line_over_4094_bytes_is_a_json_400(server):
    line_overhead = len("GET  HTTP/1.1")
    fits = "/api/v1/" + "a" * (4094 - line_overhead - len("/api/v1/"))
    assert enveloped(exchange(server, request("GET", fits)), 404) == "not found"  # reached Django
    error = enveloped(exchange(server, request("GET", fits + "a")), 400)
    assert error == "request line too long: method, URL and protocol must fit in 4094 bytes"
    assert "too long" in enveloped(exchange(server, request("GET", "/api/v1/properties?pageToken=" + "x" * 8000)), 400)


def test_a_header_over_8190_bytes_or_over_100_headers_is_a_json_431(server):
    big = request("GET", "/api/v1/properties", {"Authorization": "Bearer " + "x" * 8200})
    assert enveloped(exchange(server, big), 431) == "request header too large: at most 8190 bytes per header"
    many = request("GET", "/api/v1/properties", {f"X-Header-{i}": "1" for i in range(101)})
    assert enveloped(exchange(server, many), 431) == "too many request headers: at most 100"


@pytest.mark.parametrize("length", ["abc", "-1", "1.5", "0x10"])
def test_a_non_numeric_content_length_is_a_json_400(server, length):
    raw = request("POST", "/api/v1/auth/code", {"Content-Type": "application/json", "Content-Length": length}, b"{}")
    assert enveloped(exchange(server, raw), 400) == "invalid Content-Length header"


def test_other_malformed_requests_are_json_too(server):
    assert enveloped(exchange(server, b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n"), 400).startswith("malformed HTTP request")
    raw = request("POST", "/api/v1/auth/code", {"Transfer-Encoding": "gzip, chunked, br"})
    assert enveloped(exchange(server, raw), 501) == "unsupported Transfer-Encoding"


# A fixed unknown id: parallel runs (pytest -n) need every process to collect the same test ids.
UNKNOWN_LOCK_ID = "0193a3e1-5c2d-7000-8000-00000000beef"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/auth/code"), ("POST", "/api/v1/properties"), ("PUT", f"/api/v1/locks/{UNKNOWN_LOCK_ID}/sync")],
)
def test_a_chunked_body_is_a_json_411_not_read_as_empty(server, method, path):
    """Django reads Content-Length bytes only: a chunked body was read as empty, so valid data
    answered "field required". gunicorn passes it on; the API refuses it."""
    body = json.dumps({"email": "someone@example.test"}).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    error = enveloped(exchange(server, request(method, path, headers, chunked)), 411)
    assert error == "length required: send the body with a Content-Length header, not chunked"
