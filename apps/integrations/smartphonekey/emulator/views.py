"""Emulator views: the token call, AddAccessibleLock as the seed shows it, and `_control/`."""

import datetime as dt
import json
import time

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.integrations.smartphonekey.emulator import state as emu

LEVELS = ("OWNER", "ADMIN", "USER", "GUEST")
FIELDS = ("lockId", "lockName", "accessLevel", "validFrom", "validUntil", "grantedBy")


def _error(status: int, error: str) -> JsonResponse:
    return JsonResponse({"success": False, "error": error}, status=status)


def _failure() -> JsonResponse | None:
    failure = emu.failure_next()
    if failure is None:
        return None
    if failure.mode == "401":
        return _error(401, "Authorization: invalid token")
    if failure.mode == "500":
        return _error(500, "Internal Server Error")
    if failure.mode == "malformed":
        return JsonResponse({"success": True, "version": "three"})
    time.sleep(failure.seconds)
    return None


def _key_ok(request: HttpRequest) -> bool:
    return request.headers.get("X-API-Key") == emu.state().api_key


@csrf_exempt
def token(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return _error(405, "method: POST only")
    with emu.lock():
        if not _key_ok(request):
            return _error(401, "X-API-Key: invalid")
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        return JsonResponse(
            {"success": True, "token": emu.token_new(), "expiresAt": expires.isoformat().replace("+00:00", "Z")}
        )


@csrf_exempt
def add_accessible_lock(request: HttpRequest, user_id: str) -> JsonResponse:
    """Stores the body per (user, lockId); version +1 per change, same version and null event
    for an identical repeat."""
    if request.method != "POST":
        return _error(405, "method: POST only")
    failed = _failure()
    if failed is not None:
        return failed
    with emu.lock():
        current = emu.state()
        if not _key_ok(request):
            return _error(401, "X-API-Key: invalid")
        scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or bearer not in current.tokens:
            return _error(401, "Authorization: invalid token")
        try:
            body = json.loads(request.body)
        except ValueError:
            return _error(400, "body: not JSON")
        if not isinstance(body, dict):
            return _error(400, "body: must be an object")
        for name in ("lockId", "accessLevel", "grantedBy"):
            if not isinstance(body.get(name), str) or not body[name]:
                return _error(400, f"{name}: required")
        if body["accessLevel"] not in LEVELS:
            return _error(400, "accessLevel: must be one of OWNER, ADMIN, USER, GUEST")
        stored = {name: body.get(name) for name in FIELDS}
        locks = current.locks.setdefault(user_id, {})
        version = current.versions.get(user_id, 0)
        event = None
        if locks.get(body["lockId"]) != stored:
            version += 1
            current.versions[user_id] = version
            event = {"type": "AccessibleLockChanged" if body["lockId"] in locks else "AccessibleLockAdded", **stored}
            locks[body["lockId"]] = stored
        return JsonResponse(
            {
                "success": True,
                "aggregateId": user_id,
                "version": version,
                "event": event,
                "lockId": body["lockId"],
                "accessLevel": body["accessLevel"],
            }
        )


def control_user_locks(request: HttpRequest, user_id: str) -> JsonResponse:
    """GET: `{locks: [...]}`, the bodies stored for that user, in the order first added."""
    with emu.lock():
        return JsonResponse({"locks": list(emu.state().locks.get(user_id, {}).values())})


@csrf_exempt
def control_reset(request: HttpRequest) -> JsonResponse:
    emu.reset()
    return JsonResponse({"reset": True})


@csrf_exempt
def control_fail(request: HttpRequest) -> JsonResponse:
    """POST `{mode: 401|500|slow|malformed, times: 1, seconds: 0}` for the next AddAccessibleLock calls."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if request.method != "POST" or not isinstance(body, dict) or body.get("mode") not in emu.FAILURE_MODES:
        return _error(400, f"mode: one of {', '.join(emu.FAILURE_MODES)}")
    with emu.lock():
        emu.state().failures.append(
            emu.Failure(mode=body["mode"], times=int(body.get("times", 1)), seconds=float(body.get("seconds", 0)))
        )
    return JsonResponse({"queued": True})
