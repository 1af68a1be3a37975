"""The DoorLock envelope: every JSON response under /api/ is `{success, error, data}` (spec §2.2).

Views return the bare `data`; `EnvelopeJSONRenderer` wraps it. Error responses are built
already enveloped by the exception handler (`error_response`), and responses that need
extra top-level members (the spec's `signatures`) use `EnvelopedResponse`.

A successful write (any method but GET/HEAD/OPTIONS) also carries `eventIds`: the ids of the
events it appended, in order (apps.core.written; docs/API.md "Following a write").
"""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.core.written import event_ids_current


def envelope(*, data=None, error: str | None = None, success: bool | None = None, **extra) -> dict:
    """The envelope dict; `success` defaults to "no error"."""
    body = {
        "success": error is None if success is None else success,
        "error": error,
        "data": {} if data is None else data,
    }
    body.update(extra)
    return body


class EnvelopedResponse(Response):
    """A response whose body is already an envelope; the renderer leaves it alone."""

    enveloped = True


def error_response(
    status: int, message: str, *, data: dict | None = None, headers: dict | None = None
) -> EnvelopedResponse:
    return EnvelopedResponse(envelope(data=data or {}, error=message, success=False), status=status, headers=headers)


class EnvelopeJSONRenderer(JSONRenderer):
    """JSON renderer that wraps a view's bare data in the envelope."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and not getattr(response, "enveloped", False):
            data = envelope(data=data, success=response.status_code < 400)
        request = (renderer_context or {}).get("request")
        if (
            response is not None
            and response.status_code < 400
            and request is not None
            and request.method not in SAFE_METHODS
            and isinstance(data, dict)
        ):
            event_ids = event_ids_current()
            if event_ids is not None:
                data = {**data, "eventIds": event_ids}
        return super().render(data, accepted_media_type, renderer_context)
