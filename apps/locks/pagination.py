"""Access logs are paged newest first by the lock's own sequence number (not by arrival), so a
late delivery that fills a gap shows up where it happened."""

from django.core import signing
from rest_framework import serializers

from apps.core.api.pagination import TOKEN_SALT, TOKEN_VERSION, PageTokenPagination, _list_fingerprint


class NewestSequenceFirstPagination(PageTokenPagination):
    """Keyset paging on `-sequence` with the same signed, list-bound tokens as PageTokenPagination."""

    ordering = "-sequence"

    def paginate_queryset(self, queryset, request, view=None):
        self.items_key = getattr(view, "page_items_key", "items")
        self.request = request
        size = self._page_size(request)
        after = self._decode(request)
        if after is not None:
            queryset = queryset.filter(sequence__lt=after)
        rows = list(queryset.order_by("-sequence")[: size + 1])
        self.has_next = len(rows) > size
        rows = rows[:size]
        self.next_token = self._encode(request, rows[-1].sequence) if self.has_next else None
        return rows

    def _decode(self, request) -> int | None:
        token = request.query_params.get(self.token_param)
        if not token:
            return None
        try:
            payload = signing.loads(token, salt=TOKEN_SALT)
            if payload.get("v") != TOKEN_VERSION or payload.get("o") != self.ordering:
                raise ValueError("token for another ordering")
            if payload.get("l") != _list_fingerprint(request):
                raise ValueError("token for another list")
            return int(payload["k"])
        except (signing.BadSignature, ValueError, KeyError, TypeError, AttributeError):
            raise serializers.ValidationError(
                {self.token_param: ["Invalid page token; use the pageToken from the previous page of this same list."]}
            ) from None
