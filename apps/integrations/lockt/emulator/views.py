"""HTTP front of the emulator: authenticate the apiuser/apikey pair, play an armed fault, route
(routing.py), run the handler (writes inside one transaction under the instance's row lock, so
writes of one account never overlap, §9.3 step 4), render Lockt's envelope."""

import json
import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.integrations.lockt.emulator import envelopes, faults, routing, seed
from apps.integrations.lockt.emulator.models import Instance, apikey_digest
from apps.integrations.lockt.emulator.pipeline import Ctx
from apps.integrations.lockt.emulator.switches import switch

WRITE_METHODS = {"POST", "PUT", "DELETE"}
logger = logging.getLogger("keyhouse.emulators.lockt")


def render(reply: envelopes.Reply) -> JsonResponse:
    return JsonResponse(reply.body, status=reply.status, json_dumps_params={"ensure_ascii": False})


def authenticate(request, *, allow_revoked: bool = False) -> Instance | None:
    """The instance of the request's apiuser/apikey headers; the documented example pair is
    provisioned with the doc seed on first use (§9.13), so a fresh database answers it."""
    apiuser = request.headers.get("apiuser", "")
    apikey = request.headers.get("apikey", "")
    if not apiuser or not apikey:
        return None
    instance = Instance.objects.filter(apiuser=apiuser).first()
    if instance is None and (apiuser, apikey) == (seed.EXAMPLE_APIUSER, seed.EXAMPLE_APIKEY):
        try:
            instance = seed.instance_create(apiuser=apiuser, apikey=apikey, seed_kind="doc")
        except IntegrityError:  # a concurrent first request created it
            instance = Instance.objects.get(apiuser=apiuser)
    if instance is None or instance.apikey_sha256 != apikey_digest(apikey):
        return None
    if instance.revoked and not allow_revoked:
        return None
    return instance


def now_of(instance: Instance) -> datetime:
    return instance.clock or datetime.now(UTC)


def query_of(request) -> dict:
    return {key: request.GET.get(key, "") for key in request.GET}


def parse_body(request, *, strict: bool) -> tuple[object, bool]:
    """(body, ok). A write without Content-Type application/json is refused when `strict` (§2.4)."""
    if not request.body:
        return None, True
    if strict and request.method in WRITE_METHODS and request.content_type != "application/json":
        return None, False
    try:
        return json.loads(request.body), True
    except ValueError:
        return None, False


@csrf_exempt
def api(request, path: str) -> HttpResponse:
    instance = authenticate(request)
    if instance is None:
        return render(envelopes.unauthorized())
    route = routing.resolve(request.method, path, request.GET, aliases=switch(instance, "accept_url_aliases"))
    if route is None:
        return render(envelopes.not_found())
    endpoint, handler = route
    if endpoint in routing.PENDING and not switch(instance, "enable_pending_endpoints"):
        return render(envelopes.not_found())
    fault = faults.take(instance)
    if fault is not None:
        response = faults.play(fault)
        if response is not None:
            return response
    body, ok = parse_body(request, strict=switch(instance, "strict_content_type"))
    try:
        return render(run(instance, request, handler, body, ok))
    except Exception:  # noqa: BLE001 - a remote answers its own 500, never Django's page
        logger.exception("Lockt emulator: %s %s failed", request.method, endpoint)
        return render(envelopes.instance_error(envelopes.INSTANCE_ERRORS[3]))


def run(instance: Instance, request, handler, body, ok: bool) -> envelopes.Reply:
    """Reads run as they are; a write runs in one transaction under the instance's row lock
    (writes of one account never overlap, §9.3 step 4) and rolls back unless it succeeded."""
    if request.method not in WRITE_METHODS:
        return handler(Ctx(instance, request.method, query_of(request), body, ok, now_of(instance)))
    with transaction.atomic():
        locked = Instance.objects.select_for_update().get(pk=instance.pk)
        reply = handler(Ctx(locked, request.method, query_of(request), body, ok, now_of(locked)))
        if reply.status >= 400:
            transaction.set_rollback(True)
    return reply


__all__ = ["api", "authenticate", "render"]
