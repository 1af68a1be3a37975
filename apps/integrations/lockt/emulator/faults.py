"""Fault injection (spec §9.3 step 10, §9.9 `fault_instance_error`): one armed fault per
instance, played on its next `count` API calls (null = until cleared).

Kinds: `instance_error` (5xx with a §2.7 message in `result`), `timeout` (sleeps `delay`
seconds, then 504 "The destination host is unreachable."), `slow` (sleeps, then answers
normally), `malformed_json` (200 with a truncated JSON body), `unauthorized` (401).
`retry_after` adds a Retry-After header to an error."""

import time

from django.http import HttpResponse, JsonResponse

from apps.integrations.lockt.emulator import envelopes
from apps.integrations.lockt.emulator.models import Instance

KINDS = {"instance_error", "timeout", "slow", "malformed_json", "unauthorized"}
MAX_DELAY_SECONDS = 300.0


def normalize(spec: dict) -> dict:
    """A validated fault spec, or ValueError naming the bad member."""
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}")
    fault = {"kind": kind}
    count = spec.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ValueError("count must be a positive integer or null")
    fault["remaining"] = count
    status = spec.get("status", 504 if kind == "timeout" else 500)
    if not isinstance(status, int) or not 500 <= status <= 599:
        raise ValueError("status must be a 5xx integer")
    fault["status"] = status
    message = spec.get("message", 3)
    if isinstance(message, int) and not isinstance(message, bool) and 0 <= message < len(envelopes.INSTANCE_ERRORS):
        message = envelopes.INSTANCE_ERRORS[message]
    if message not in envelopes.INSTANCE_ERRORS:
        raise ValueError("message must be one of the §2.7 communication messages (or its index 0–3)")
    fault["message"] = message
    delay = spec.get("delay", 30.0 if kind == "timeout" else 1.0)
    if not isinstance(delay, int | float) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY_SECONDS:
        raise ValueError(f"delay must be 0–{MAX_DELAY_SECONDS:g} seconds")
    fault["delay"] = float(delay)
    retry_after = spec.get("retry_after")
    if retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0):
        raise ValueError("retry_after must be a non-negative integer (seconds)")
    fault["retry_after"] = retry_after
    return fault


def take(instance: Instance) -> dict | None:
    """The armed fault, spending one of its plays."""
    fault = instance.faults
    if not fault:
        return None
    remaining = fault.get("remaining")
    if remaining is not None:
        left = remaining - 1
        Instance.objects.filter(pk=instance.pk).update(faults={**fault, "remaining": left} if left > 0 else {})
    return fault


def play(fault: dict) -> HttpResponse | None:
    kind = fault["kind"]
    if kind in {"slow", "timeout"}:
        time.sleep(fault["delay"])
        if kind == "slow":
            return None
        response = JsonResponse(
            envelopes.instance_error(envelopes.INSTANCE_ERRORS[2], fault["status"]).body, status=fault["status"]
        )
    elif kind == "instance_error":
        reply = envelopes.instance_error(fault["message"], fault["status"])
        response = JsonResponse(reply.body, status=reply.status)
    elif kind == "malformed_json":
        return HttpResponse('{"data": [{"id": 1, "name": ', content_type="application/json", status=200)
    else:
        reply = envelopes.unauthorized()
        response = JsonResponse(reply.body, status=reply.status)
    if fault.get("retry_after") is not None:
        response["Retry-After"] = str(fault["retry_after"])
    return response


__all__ = ["KINDS", "normalize", "play", "take"]
