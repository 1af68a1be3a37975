"""`pageToken` paging (spec §2.3): one reusable keyset paginator.

- Rows are ordered by primary key. Keys are UUIDv7 (time-ordered), so rows created between
  two page requests sort after the cursor and are neither skipped nor repeated.
  `ordering = "-id"` gives newest first (access logs).
- The token is opaque and tamper-evident: a signed (HMAC, Django `signing`) record of the
  last key seen, the direction, and a fingerprint of the list it belongs to (path + filters),
  so a token replayed on another list or edited by hand is a 400 naming `pageToken`.
- A token is at most `TOKEN_MAX_LENGTH` (512) characters (docs/API.md "Limits"); today's are
  about 135–165, so a later token version has room. A longer one is a 400 before any decoding.
- `pageSize` (default 50, max 500) is a Keyhouse extension.
- The response `data` is `{<itemsKey>: [...], "pageToken": <next or null>}`; the view names
  the items key (`page_items_key = "properties"`).
"""

import hashlib
from uuid import UUID

from django.conf import settings
from django.core import signing
from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

TOKEN_SALT = "keyhouse.api.page-token"
TOKEN_VERSION = 1
TOKEN_MAX_LENGTH = 512
TOKEN_PATTERN = r"^[A-Za-z0-9_.:-]+$"  # django.core.signing's alphabet: base64url, `.` and `:`


def _list_fingerprint(request) -> str:
    params = sorted((k, v) for k, v in request.query_params.lists() if k not in ("pageToken", "pageSize"))
    raw = f"{request.path}?{params!r}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


class PageTokenPagination(BasePagination):
    """Keyset pagination on a unique column (the primary key unless a subclass says otherwise)
    with signed, opaque `pageToken`s."""

    ordering = "id"  # a unique column; "-id" for newest first
    key_type = UUID  # reads the last key back from a token
    token_param = "pageToken"
    size_param = "pageSize"

    def paginate_queryset(self, queryset, request, view=None):
        self.items_key = getattr(view, "page_items_key", "items")
        self.request = request
        size = self._page_size(request)
        descending, field = self.ordering.startswith("-"), self.ordering.lstrip("-")
        after = self._decode(request)
        if after is not None:
            queryset = queryset.filter(**{f"{field}__lt" if descending else f"{field}__gt": after})
        rows = list(queryset.order_by(self.ordering)[: size + 1])
        self.has_next = len(rows) > size
        rows = rows[:size]
        self.next_token = self._encode(request, getattr(rows[-1], field)) if self.has_next else None
        return rows

    def get_paginated_response(self, data):
        return Response({self.items_key: data, "pageToken": self.next_token})

    # -- tokens -----------------------------------------------------------------------
    def _encode(self, request, last_pk) -> str:
        payload = {"v": TOKEN_VERSION, "k": str(last_pk), "o": self.ordering, "l": _list_fingerprint(request)}
        return signing.dumps(payload, salt=TOKEN_SALT, compress=True)

    def _decode(self, request):
        token = request.query_params.get(self.token_param)
        if token is None:
            return None
        if len(token) > TOKEN_MAX_LENGTH:
            raise serializers.ValidationError({self.token_param: [f"At most {TOKEN_MAX_LENGTH} characters."]})
        try:
            payload = signing.loads(token, salt=TOKEN_SALT)
            if payload.get("v") != TOKEN_VERSION or payload.get("o") != self.ordering:
                raise ValueError("token for another ordering")
            if payload.get("l") != _list_fingerprint(request):
                raise ValueError("token for another list")
            return self.key_type(payload["k"])
        except (signing.BadSignature, ValueError, KeyError, TypeError, AttributeError):
            raise serializers.ValidationError(
                {self.token_param: ["Invalid page token; use the pageToken from the previous page of this same list."]}
            ) from None

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.size_param)
        if raw is None:  # `pageSize=` (empty) is not an integer: a 400 below, as the schema says
            return settings.KEYHOUSE_PAGE_SIZE_DEFAULT
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= settings.KEYHOUSE_PAGE_SIZE_MAX:
            raise serializers.ValidationError(
                {self.size_param: [f"Must be an integer from 1 to {settings.KEYHOUSE_PAGE_SIZE_MAX}."]}
            )
        return size

    # -- OpenAPI ------------------------------------------------------------------------
    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.token_param,
                "in": "query",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": TOKEN_MAX_LENGTH, "pattern": TOKEN_PATTERN},
                "description": "Opaque, signed token: only the `pageToken` the previous page of this same list "
                "answered (same path and filters); omit it for the first page. Any other value, edited, "
                "empty or from another list, is a 400 naming `pageToken`.",
            },
            {
                "name": self.size_param,
                "in": "query",
                "required": False,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": settings.KEYHOUSE_PAGE_SIZE_MAX,
                    "default": settings.KEYHOUSE_PAGE_SIZE_DEFAULT,
                },
                "description": "Keyhouse extension: items per page.",
            },
        ]

    def get_paginated_response_schema(self, schema):
        items_key = getattr(self, "items_key", "items")  # set by EnvelopeAutoSchema from the view
        return {
            "type": "object",
            "required": [items_key],
            "properties": {
                items_key: schema,
                "pageToken": {
                    "type": "string",
                    "nullable": True,
                    "description": "Token for the next page; null on the last page.",
                },
            },
        }


class NewestFirstPagination(PageTokenPagination):
    ordering = "-id"
