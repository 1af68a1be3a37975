"""Access logs are paged newest first by the lock's own sequence number (not by arrival), so a
late delivery that fills a gap shows up where it happened."""

from apps.core.api.pagination import PageTokenPagination


class NewestSequenceFirstPagination(PageTokenPagination):
    """Keyset paging on `-sequence` with the same signed, list-bound tokens as PageTokenPagination."""

    ordering = "-sequence"
    key_type = int


GAP_SCHEMA = {
    "type": "object",
    "required": ["fromSequence", "toSequence", "missing", "detectedAt"],
    "properties": {
        "fromSequence": {"type": "integer"},
        "toSequence": {"type": "integer"},
        "missing": {"type": "integer"},
        "detectedAt": {"type": "string", "format": "date-time"},
    },
}


class AccessLogPagination(NewestSequenceFirstPagination):
    """listLockAccessLogs: the page, plus `gaps` (extension, PROTOCOL.md §6.5) in the schema."""

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        page["properties"]["gaps"] = {
            "type": "array",
            "items": GAP_SCHEMA,
            "description": "Extension: sequence ranges [fromSequence, toSequence] the lock has not delivered.",
        }
        page["required"] = [*page["required"], "gaps"]
        return page


class LockHealthPagination(PageTokenPagination):
    """listPropertyLockHealth: LockHealth's key is its lock."""

    ordering = "lock_id"
