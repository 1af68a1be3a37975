"""Emulator views: the vendor's one endpoint and the `_control/` endpoints (docs/INTEGRATIONS.md)."""

import datetime as dt
import gzip
import json
import time

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from apps.integrations.parqex.emulator import state as emu

INVALID_TOKEN = {"error": "Invalid Access Token"}  # Spec: seed 004 "Common Error Messages"


def _json(body, *, status: int = 200, request: HttpRequest | None = None) -> HttpResponse:
    content = json.dumps(body, indent=2).encode()
    response = HttpResponse(content, status=status, content_type="application/json; charset=utf-8")
    if request is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        response.content = gzip.compress(content)
        response["Content-Encoding"] = "gzip"
    return response


def sync(request: HttpRequest) -> HttpResponse:
    """GET /oauth/v1/endpoints/sync: every controller the token's user owns or may use."""
    if request.method != "GET":
        return _json({"error": "Method Not Allowed"}, status=405)
    failure = emu.failure_next()
    if failure is not None:
        if failure.mode == "401":
            return _json(INVALID_TOKEN, status=401)
        if failure.mode == "500":
            return _json({"error": "Internal Server Error"}, status=500)
        if failure.mode == "malformed":
            return HttpResponse(b'{"devices": [ {"id": ', content_type="application/json")
        if failure.mode == "slow":
            time.sleep(failure.seconds)
    with emu.lock():
        current = emu.state()
        current.requests += 1
        if request.headers.get("Authorization") != f"Bearer {current.token}":
            return _json(INVALID_TOKEN, status=401)
        emu.auto_close()
        body = json.loads(json.dumps(current.body))
    return _json(body, request=request)


def _read(request: HttpRequest) -> dict | None:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@csrf_exempt
def control_reset(request: HttpRequest) -> HttpResponse:
    """POST: back to the seed fixture, the default token, no failures."""
    if request.method != "POST":
        return _json({"error": "Method Not Allowed"}, status=405)
    emu.reset()
    return _json({"reset": True})


@csrf_exempt
def control_state(request: HttpRequest) -> HttpResponse:
    """GET: the whole state; PUT `{devices: [...]}` replaces the answer; POST `{token}` sets the valid token."""
    if request.method == "GET":
        with emu.lock():
            current = emu.state()
            return _json({"body": current.body, "requests": current.requests, "failures": len(current.failures)})
    body = _read(request)
    if body is None:
        return _json({"error": "body: must be a JSON object"}, status=400)
    with emu.lock():
        if request.method == "PUT":
            if not isinstance(body.get("devices"), list):
                return _json({"error": "devices: must be a list"}, status=400)
            emu.state().body = body
        elif request.method == "POST" and isinstance(body.get("token"), str):
            emu.state().token = body["token"]
        else:
            return _json({"error": "PUT {devices} or POST {token}"}, status=400)
    return _json({"ok": True})


@csrf_exempt
def control_fail(request: HttpRequest) -> HttpResponse:
    """POST `{mode: 401|500|slow|malformed, times: 1, seconds: 0}`: the next `times` sync calls fail so."""
    body = _read(request)
    if request.method != "POST" or body is None or body.get("mode") not in emu.FAILURE_MODES:
        return _json({"error": f"mode: one of {', '.join(emu.FAILURE_MODES)}"}, status=400)
    failure = emu.Failure(mode=body["mode"], times=int(body.get("times", 1)), seconds=float(body.get("seconds", 0)))
    with emu.lock():
        emu.state().failures.append(failure)
    return _json({"queued": len(emu.state().failures)})


@csrf_exempt
def control_door(request: HttpRequest, door_id: str) -> HttpResponse:
    """PATCH: set door fields (state, battery, active, ...); DELETE: the door vanishes."""
    with emu.lock():
        found = emu.door_find(door_id)
        if found is None:
            return _json({"error": "door: not found"}, status=404)
        controller, door = found
        if request.method == "DELETE":
            controller["doors"] = [d for d in controller["doors"] if d.get("id") != door_id]
            return _json({"deleted": door_id})
        body = _read(request)
        if request.method != "PATCH" or body is None:
            return _json({"error": "PATCH {fields} or DELETE"}, status=400)
        door.update(body)
        return _json(door)


@csrf_exempt
def control_door_toggle(request: HttpRequest, door_id: str) -> HttpResponse:
    """POST: the door toggles (OPEN <-> CLOSED) now, as the remote button would."""
    with emu.lock():
        found = emu.door_find(door_id)
        if found is None or request.method != "POST":
            return _json({"error": "door: not found"}, status=404)
        controller, door = found
        now = dt.datetime.now(dt.UTC)
        door["state"] = "CLOSED" if door.get("state") == "OPEN" else "OPEN"
        door["last_toggled"] = controller["last_contact"] = emu.now_text(now)
        if door["state"] == "OPEN":
            emu.state().opened_at[door_id] = now
        else:
            emu.state().opened_at.pop(door_id, None)
        return _json(door)


@csrf_exempt
def control_controller(request: HttpRequest, controller_id: str) -> HttpResponse:
    """PATCH: set controller fields (`last_contact` in the past = lost contact, `active`, ...)."""
    body = _read(request)
    if request.method != "PATCH" or body is None:
        return _json({"error": "PATCH {fields}"}, status=400)
    with emu.lock():
        for device in emu.state().body.get("devices", []):
            if device.get("id") == controller_id:
                device.update({k: v for k, v in body.items() if k != "doors"})
                return _json(device)
    return _json({"error": "controller: not found"}, status=404)
