"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi:application` (`make serve-prod`,
the bench in tests/bench/run.py). Bind address, workers and logging stay on the command line.

**Request limits** (docs/API.md "Limits"). gunicorn refuses a request before Django sees it
when its request line or headers exceed these; the values are chosen, not inherited:

- `limit_request_line` 4094 bytes (method, URL with query, protocol). The longest API path is
  about 160 bytes (three UUIDs); a list URL adds a `pageToken` (at most 512 characters,
  apps/core/api/pagination.py), `pageSize` and a few filters. Four kilobytes leave room for
  all of them without accepting URLs no client needs.
- `limit_request_fields` 100 headers and `limit_request_field_size` 8190 bytes each. API
  credentials are under 100 bytes and an `Idempotency-Key` at most 255; the admin's browsers
  bring cookies and proxies add `X-Forwarded-*`, so the common proxy size (nginx's 8 KiB
  buffers) is kept rather than something tighter that a browser could trip.

**Errors in the envelope.** gunicorn answers those refusals (and a malformed request line, a
non-numeric `Content-Length`, an unsupported `Transfer-Encoding`) itself, with an HTML page.
`JsonErrorSyncWorker` keeps gunicorn's handling (its status, its log lines, its access log)
and only rewrites what goes on the wire: `{"success": false, "error": "...", "data": {}}`
with the same status. The error is written before the path is known, so it is JSON for every
path, the admin's included. The worker is gunicorn's sync worker, as before (`--threads`
would need the same override on the gthread worker).
"""

import json
from http import HTTPStatus

from gunicorn.http import errors
from gunicorn.workers.sync import SyncWorker

limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190


def describe(exc, cfg) -> str:
    """One readable line naming what was wrong with the request (never echoing it)."""
    if isinstance(exc, errors.LimitRequestLine):
        return f"request line too long: method, URL and protocol must fit in {cfg.limit_request_line} bytes"
    if isinstance(exc, errors.LimitRequestHeaders):
        if str(exc) == "limit request headers fields":
            return f"too many request headers: at most {cfg.limit_request_fields}"
        return f"request header too large: at most {cfg.limit_request_field_size} bytes per header"
    if isinstance(exc, errors.InvalidHeader) and exc.hdr in ("CONTENT-LENGTH", "TRANSFER-ENCODING"):
        return f"invalid {exc.hdr.title()} header"
    if isinstance(exc, errors.UnsupportedTransferCoding):
        return "unsupported Transfer-Encoding"
    if isinstance(exc, errors.ParseException):
        return f"malformed HTTP request ({type(exc).__name__})"
    return ""


class _JsonErrorSocket:
    """The client socket, except that the one error page gunicorn writes (`util.write_error`:
    a single `sendall` of status line, headers and HTML) goes out as a JSON envelope."""

    def __init__(self, sock, message: str):
        self._sock, self._message = sock, message

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def sendall(self, data: bytes) -> None:
        status = HTTPStatus(int(data.split(b" ", 2)[1]))  # b"HTTP/1.1 431 Request Header Fields Too Large\r\n..."
        body = json.dumps({"success": False, "error": self._message or status.phrase.lower(), "data": {}}).encode()
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self._sock.sendall(head.encode("latin-1") + body)


class JsonErrorSyncWorker(SyncWorker):
    """gunicorn's sync worker, with its own error responses in the API envelope."""

    def handle_error(self, req, client, addr, exc):
        super().handle_error(req, _JsonErrorSocket(client, describe(exc, self.cfg)), addr, exc)


worker_class = JsonErrorSyncWorker
