"""The HTTP base every vendor client uses (docs/INTEGRATIONS.md "Errors"): timeouts, which
failures are transient, Retry-After, named exceptions, and logs without secrets.

No Django: the caller passes timeouts and credentials in (services read settings), so vendor
clients stay testable on their own. Credentials travel only in request headers, which are
never logged nor put into an exception; a log line or an error names the method, the path
without its query string (queries carry card numbers, ids of people) and the status.
"""

import json as jsonlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

logger = logging.getLogger("keyhouse.integrations.http")

# Statuses after which the same request may succeed later: timeouts, rate limits, server errors.
TRANSIENT_STATUSES = frozenset({408, 425, 429}) | frozenset(range(500, 600))
AUTH_STATUSES = frozenset({401, 403})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REQUEST_ID_HEADERS = ("X-Request-Id", "X-Correlation-Id", "Request-Id")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "testserver"})


class IntegrationError(Exception):
    """A remote call failed. The message is safe to store and show: no secrets, no query strings."""

    retry_after: float | None = None


class AuthFailed(IntegrationError):
    """The remote refused the credentials (401/403): the account needs new ones; never retried."""


class Transient(IntegrationError):
    """Worth trying again later: timeout, connection failure, 408/425/429, 5xx, or a vendor's
    "try later" message. `retry_after` holds the remote's Retry-After in seconds, if it sent one."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class RemoteError(IntegrationError):
    """The remote answered that it will not do this (a 4xx other than auth and rate limits).

    `status` is the HTTP status; `body` the parsed JSON body, or None (for the vendor client to
    read; it is not part of the message because it may echo personal data)."""

    def __init__(self, message: str, *, status: int, body: Any = None):
        super().__init__(message)
        self.status = status
        self.body = body


class Malformed(IntegrationError):
    """The remote answered 2xx with something that is not what its API promises (bad JSON, wrong shape)."""


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP-date); None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def check_base_url(url: str, *, allow_http: bool) -> str:
    """The base URL without a trailing slash; ValueError saying why it is refused.

    Remote APIs are spoken to over HTTPS only (Lockt §2.1); plain http only when `allow_http`
    (local emulators in development and tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("Must be an absolute https:// URL.")
    if parts.scheme == "http" and not allow_http:
        raise ValueError("Must use https:// (plain http is allowed only for local emulators in development).")
    if parts.username or parts.password:
        raise ValueError("Must not carry credentials; give them as credentials.")
    if parts.query or parts.fragment:
        raise ValueError("Must not have a query string or fragment.")
    return url.rstrip("/")


@dataclass(frozen=True)
class HttpResponse:
    """A 2xx answer: status, headers and body bytes; `json()` parses it or raises Malformed."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    content: bytes = field(repr=False)

    def json(self) -> Any:
        try:
            return jsonlib.loads(self.content)
        except (ValueError, UnicodeDecodeError):
            raise Malformed(f"{self.method} {self.path}: HTTP {self.status} body is not JSON") from None


_UNSET = object()


class HttpClient:
    """Requests to one remote API, with the account's credential headers on each.

    `retries` is how many more times an idempotent request is sent after a transient failure,
    waiting `retry_wait` × 2^n seconds (jittered, at most `retry_wait_max`). A Retry-After
    longer than `retry_wait_max` is not waited for here: the error goes up with it, and the
    account's backoff (apps.integrations.backoff) honours it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        secret_headers: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        retries: int = 2,
        retry_wait: float = 1.0,
        retry_wait_max: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._secret_headers = dict(secret_headers or {})
        self._headers = {"Accept": "application/json", "User-Agent": "Keyhouse", **(headers or {})}
        self.timeout = (connect_timeout, read_timeout)
        self.retries = retries
        self.retry_wait = retry_wait
        self.retry_wait_max = retry_wait_max
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.trust_env = False  # no proxy or .netrc credentials picked up from the environment

    def __repr__(self) -> str:
        return f"HttpClient({self.base_url!r})"  # never the headers

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = _UNSET,
        idempotent: bool | None = None,
    ) -> HttpResponse:
        """Send one request (retrying transient failures if idempotent); a 2xx HttpResponse or a named error."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        attempt = 0
        while True:
            try:
                return self._send(method, path, params=params, json=json)
            except Transient as exc:
                wait = self._wait_before_retry(attempt, exc)
                if not idempotent or attempt >= self.retries or wait is None:
                    raise
                attempt += 1
                logger.info("%s %s: %s; retry %d in %.1f s", method, path, exc, attempt, wait)
                self._sleep(wait)

    def get_json(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def _wait_before_retry(self, attempt: int, exc: Transient) -> float | None:
        nominal = min(self.retry_wait * (2**attempt), self.retry_wait_max)
        wait = nominal / 2 + random.random() * nominal / 2
        if exc.retry_after is not None:
            if exc.retry_after > self.retry_wait_max:
                return None  # too long to hold a worker: the account's backoff waits instead
            wait = max(wait, exc.retry_after)
        return wait

    def _send(self, method: str, path: str, *, params, json) -> HttpResponse:
        url = f"{self.base_url}/{path.lstrip('/')}"
        headers = {**self._headers, **self._secret_headers}
        kwargs: dict[str, Any] = {"params": params, "headers": headers, "timeout": self.timeout}
        if json is not _UNSET:
            kwargs["data"] = jsonlib.dumps(json)
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            response = self._session.request(method, url, allow_redirects=False, **kwargs)
        except requests.Timeout:
            raise Transient(
                f"{method} {path}: timed out (connect {self.timeout[0]} s, read {self.timeout[1]} s)"
            ) from None
        except requests.ConnectionError:
            raise Transient(f"{method} {path}: could not connect to {urlsplit(url).netloc}") from None
        except requests.RequestException as exc:
            raise Transient(f"{method} {path}: {type(exc).__name__}") from None
        elapsed_ms = (time.monotonic() - started) * 1000
        status = response.status_code
        request_id = next((response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), "")
        logger.info(
            "%s %s -> %d in %.0f ms%s", method, path, status, elapsed_ms, f" (id {request_id})" if request_id else ""
        )
        if status in AUTH_STATUSES:
            raise AuthFailed(f"{method} {path}: HTTP {status}, the remote refused the credentials")
        if status in TRANSIENT_STATUSES:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            hint = f", Retry-After {retry_after:.0f} s" if retry_after is not None else ""
            raise Transient(f"{method} {path}: HTTP {status}{hint}", retry_after=retry_after)
        if not 200 <= status < 300:
            try:
                body = response.json()
            except ValueError:
                body = None
            raise RemoteError(f"{method} {path}: HTTP {status}", status=status, body=body)
        return HttpResponse(method=method, path=path, status=status, headers=response.headers, content=response.content)
