"""Errors that services raise; the API turns them into the envelope (apps/core/api/exceptions.py)."""


class ApplicationError(Exception):
    """A business rule refused the request (HTTP 400, or `status` when given).

    `fields` names the offending input fields ({"parentAreaId": ["would create a cycle"]});
    `extra` carries machine-readable detail (e.g. what blocks a delete).
    """

    status = 400

    def __init__(
        self, message: str, *, fields: dict | None = None, extra: dict | None = None, status: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra or {}
        if status is not None:
            self.status = status


class ConflictError(ApplicationError):
    """The request conflicts with the current state (HTTP 409)."""

    status = 409


class Forbidden(ApplicationError):
    """A policy refused the caller (HTTP 403): the message says which rule."""

    status = 403
