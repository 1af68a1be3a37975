"""Control endpoints at /_emulators/lockt/_control/… (test and demo hooks, not part of Lockt's
API). All take and return JSON; all but `instances` act on the instance named by the same
apiuser/apikey headers as the API (a revoked pair is still accepted here).

- POST instances   {"apiuser", "apikey", "batch_limit"?, "seed"?: "doc"|"empty"} → 201
- POST reset       wipe the instance and reload its seed (switches, fault, clock cleared)
- GET|POST clock   {"now": "2022-09-08 11:30:00" | null} (null = real time)
- GET|POST switches {name: value, …, "batch_limit"?}; unknown names → 400
- POST faults      {"kind", "count"?, "status"?, "message"?, "delay"?, "retry_after"?}; DELETE clears
- POST revoke / POST restore   the pair answers 401 / answers again
- POST events      {"events": [{…}, …]} → {"data": [{"id": n}, …]}
- POST generate    {"users", "levels", "doors", "credentials", "levels_per_user"?}
"""

import json
from datetime import UTC, datetime

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.integrations.lockt.emulator import faults, seed
from apps.integrations.lockt.emulator.models import Instance
from apps.integrations.lockt.emulator.switches import DEFAULTS, effective
from apps.integrations.lockt.emulator.values import iso, parse_date
from apps.integrations.lockt.emulator.views import authenticate

MAX_GENERATED = 200_000


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _body(request) -> dict | None:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _instance(request):
    instance = authenticate(request, allow_revoked=True)
    return instance, (None if instance else _error("unknown apiuser/apikey pair", 401))


@csrf_exempt
@require_http_methods(["POST"])
def instances(request):
    body = _body(request)
    if body is None:
        return _error("body must be a JSON object")
    apiuser, apikey = body.get("apiuser"), body.get("apikey")
    if not isinstance(apiuser, str) or not apiuser or not isinstance(apikey, str) or not apikey:
        return _error("apiuser and apikey are required strings")
    seed_kind = body.get("seed", "doc")
    if seed_kind not in {"doc", "empty"}:
        return _error("seed must be 'doc' or 'empty'")
    limit = body.get("batch_limit", 100)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        return _error("batch_limit must be a positive integer")
    if Instance.objects.filter(apiuser=apiuser).exists():
        return _error("an instance with this apiuser exists", 409)
    instance = seed.instance_create(apiuser=apiuser, apikey=apikey, seed_kind=seed_kind, batch_limit=limit)
    return JsonResponse(
        {"data": {"apiuser": instance.apiuser, "seed": instance.seed, "batch_limit": limit}}, status=201
    )


@csrf_exempt
@require_http_methods(["POST"])
def reset(request):
    instance, denied = _instance(request)
    if denied:
        return denied
    seed.reset(instance)
    return JsonResponse({"data": {"reset": True, "seed": instance.seed}})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def clock(request):
    instance, denied = _instance(request)
    if denied:
        return denied
    if request.method == "POST":
        body = _body(request)
        if body is None or "now" not in body:
            return _error('body must be {"now": "<date-time>" | null}')
        try:
            instance.clock = parse_date(body["now"])
        except ValueError:
            return _error("now: not a date-time (YYYY-MM-DD HH:MM:SS or ISO-8601)")
        instance.save(update_fields=["clock"])
    now = instance.clock or datetime.now(UTC)
    return JsonResponse({"data": {"now": iso(now), "frozen": instance.clock is not None}})


def _switch_problem(name: str, value) -> str | None:
    default = DEFAULTS[name]
    if isinstance(default, float):
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            return f"{name} must be a number from 0 to 1"
    elif isinstance(default, bool):
        if not isinstance(value, bool):
            return f"{name} must be true or false"
    elif isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"{name} must be a positive integer"
    elif name == "user_update_match" and value not in ("id", "legacy"):
        return 'user_update_match must be "id" or "legacy"'
    return None


@csrf_exempt
@require_http_methods(["GET", "POST"])
def switches(request):
    instance, denied = _instance(request)
    if denied:
        return denied
    if request.method == "POST":
        body = _body(request)
        if body is None:
            return _error("body must be a JSON object")
        unknown = sorted(set(body) - set(DEFAULTS) - {"batch_limit"})
        if unknown:
            return _error(f"unknown switches: {', '.join(unknown)}")
        for name, value in body.items():
            problem = None if name == "batch_limit" else _switch_problem(name, value)
            if problem:
                return _error(problem)
        if "batch_limit" in body:
            limit = body["batch_limit"]
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                return _error("batch_limit must be a positive integer")
            instance.batch_limit = limit
        instance.switches = {**instance.switches, **{k: v for k, v in body.items() if k in DEFAULTS}}
        instance.save(update_fields=["switches", "batch_limit"])
    return JsonResponse({"data": {**effective(instance), "batch_limit": instance.batch_limit}})


@csrf_exempt
@require_http_methods(["POST", "DELETE"])
def fault(request):
    instance, denied = _instance(request)
    if denied:
        return denied
    if request.method == "DELETE":
        instance.faults = {}
    else:
        body = _body(request)
        if body is None:
            return _error("body must be a JSON object")
        try:
            instance.faults = faults.normalize(body)
        except ValueError as exc:
            return _error(str(exc))
    instance.save(update_fields=["faults"])
    return JsonResponse({"data": instance.faults})


def _revocation(revoked: bool):
    @csrf_exempt
    @require_http_methods(["POST"])
    def view(request):
        instance, denied = _instance(request)
        if denied:
            return denied
        instance.revoked = revoked
        instance.save(update_fields=["revoked"])
        return JsonResponse({"data": {"revoked": revoked}})

    return view


revoke = _revocation(True)
restore = _revocation(False)


@csrf_exempt
@require_http_methods(["POST"])
def events(request):
    instance, denied = _instance(request)
    if denied:
        return denied
    body = _body(request)
    items = body.get("events") if body else None
    if not isinstance(items, list) or not items or not all(isinstance(e, dict) for e in items):
        return _error('body must be {"events": [{...}, ...]}')
    for n, item in enumerate(items):
        try:
            parse_date(item.get("hw_time"))
        except ValueError:
            return _error(f"events[{n}].hw_time: not a date-time")
    ids = seed.events_add(instance, items, instance.clock or datetime.now(UTC))
    return JsonResponse({"data": [{"id": rid} for rid in ids]})


@csrf_exempt
@require_http_methods(["POST"])
def generate(request):
    instance, denied = _instance(request)
    if denied:
        return denied
    body = _body(request)
    if body is None:
        return _error("body must be a JSON object")
    counts = {}
    for name in ("users", "levels", "doors", "credentials", "levels_per_user"):
        value = body.get(name, 1 if name == "levels_per_user" else 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_GENERATED:
            return _error(f"{name} must be an integer 0–{MAX_GENERATED}")
        counts[name] = value
    return JsonResponse({"data": seed.generate(instance, **counts)})
