"""Portal rate-limit benchmark, the steps that run inside Django (issue 13, "Benchmark").

Run by tests/bench/part_portal.py in fresh processes, each printing one JSON line (the last
line of its stdout):

    python -m tests.bench.portal seed   # two properties, a unit each with its leaseholder
    python -m tests.bench.portal cost   # the limiter's own cost per request, against Redis

`seed` writes through the same services as the admin (property, unit, unit token, unit user)
and prints, per property, what a resident's client needs: the property id, the unit token and
the leaseholder's user id. `cost` times `ratelimit.property_take` (one Lua script in Redis per
call, the same call a portal request makes) on a bucket no load run touches.
"""

import json
import os
import statistics
import sys
import time

import django


def seed() -> dict:
    from apps.access import services as access_services
    from apps.accounts import services as account_services
    from apps.core.actors import SYSTEM
    from apps.portal import services
    from apps.properties.demo import DEMO_ADDRESS

    out = {}
    for label, name in (("A", "Bench Portal A"), ("B", "Bench Portal B")):
        prop = access_services.property_create(display_name=name, address=DEMO_ADDRESS, time_zone="UTC", actor=SYSTEM)
        unit, token = services.unit_create(prop=prop, display_name="Unit 1", actor=SYSTEM)
        person = account_services.user_create(
            email=f"leaseholder-{label.lower()}@bench.invalid", display_name=f"Leaseholder {label}", actor=SYSTEM
        )
        unit_user = services.unit_user_create(area=unit, user=person, user_type="UNIT", actor=SYSTEM)
        out[label] = {"propertyId": str(prop.pk), "token": token, "userId": str(unit_user.user_id)}
    return out


def cost(samples: int = 3000) -> dict:
    from django.conf import settings

    from apps.portal import ratelimit

    if not getattr(settings, "REDIS_CACHE_URL", ""):
        raise SystemExit("cost needs Redis (REDIS_URL)")
    key = f"bench-cost-{os.getpid()}"
    for _ in range(200):  # warm: connection, script loaded
        ratelimit.property_take(key)
    times = []
    for _ in range(samples):
        started = time.perf_counter_ns()
        ratelimit.property_take(key)
        times.append((time.perf_counter_ns() - started) / 1e6)
    times.sort()
    return {
        "samples": samples,
        "p50_ms": statistics.median(times),
        "p99_ms": times[int(len(times) * 0.99) - 1],
    }


if __name__ == "__main__":
    django.setup()
    step = sys.argv[1] if len(sys.argv) > 1 else ""
    if step == "seed":
        result = seed()
    elif step == "cost":
        result = cost()
    else:
        sys.exit("usage: python -m tests.bench.portal seed|cost")
    print(json.dumps(result))
