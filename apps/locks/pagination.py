"""Access logs are paged newest first by the lock's own sequence number (not by arrival), so a
late delivery that fills a gap shows up where it happened."""

from apps.core.api.pagination import PageTokenPagination


class NewestSequenceFirstPagination(PageTokenPagination):
    """Keyset paging on `-sequence` with the same signed, list-bound tokens as PageTokenPagination."""

    ordering = "-sequence"
    key_type = int
