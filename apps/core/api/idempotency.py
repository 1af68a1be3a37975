"""`Idempotency-Key` for POST/PUT/PATCH/DELETE under /api/v1/ (docs/API.md "Idempotency").

The first request with a key runs and its response is stored (database, 24 h by default);
a repeat with the same key, caller and request returns the stored response without doing
the work again (header `Idempotent-Replayed: true`). The same key with a different request
is a 422; a repeat while the first is still running is a 409. Keys are per caller: the
record is bound to a keyed hash of the credential, so two callers never share a key.
Server errors (5xx), 401 and 429 are not stored: the client may retry those.
"""

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError
from django.http import HttpResponse
from django.utils import timezone

from apps.core.api.middleware import json_error
from apps.core.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PREFIX = "/api/v1/"
NOT_STORED = {401, 429}


def _credential_digest(request) -> str:
    credential = f"{request.META.get('HTTP_AUTHORIZATION', '')}\n{request.META.get('HTTP_X_API_KEY', '')}"
    return hmac.new(settings.SECRET_KEY.encode(), credential.encode(), hashlib.sha256).hexdigest()


def _request_digest(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.get_full_path(), request.META.get("CONTENT_TYPE", "")):
        digest.update(part.encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.status_code, content_type=record.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def _answer_existing(record: IdempotencyRecord, request_digest: str) -> HttpResponse:
    if record.request_digest != request_digest:
        return json_error(422, "Idempotency-Key was already used with a different request")
    if record.status_code is None:
        return json_error(409, "a request with this Idempotency-Key is still in progress")
    return _replay(record)


def idempotency_purge() -> int:
    """Delete stored responses older than the TTL; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.KEYHOUSE_IDEMPOTENCY_TTL_SECONDS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(HEADER)
        if key is None or request.method not in METHODS or not request.path.startswith(PREFIX):
            return self.get_response(request)
        if not 1 <= len(key) <= 255:
            return json_error(400, "Idempotency-Key: must be 1 to 255 characters")

        credential, request_digest = _credential_digest(request), _request_digest(request)
        cutoff = timezone.now() - timedelta(seconds=settings.KEYHOUSE_IDEMPOTENCY_TTL_SECONDS)
        records = IdempotencyRecord.objects.filter(credential_digest=credential, key=key)
        records.filter(created_at__lt=cutoff).delete()
        existing = records.first()
        if existing is not None:
            return _answer_existing(existing, request_digest)
        try:
            record = IdempotencyRecord.objects.create(
                key=key, credential_digest=credential, request_digest=request_digest
            )
        except IntegrityError:  # a concurrent twin got there first
            return _answer_existing(records.get(), request_digest)

        response = self.get_response(request)
        if response.status_code >= 500 or response.status_code in NOT_STORED or response.streaming:
            record.delete()
            return response
        record.status_code = response.status_code
        record.response_body = response.content
        record.content_type = response.get("Content-Type", "application/json")
        record.save(update_fields=["status_code", "response_body", "content_type"])
        return response
