"""The portal's token buckets: the arithmetic (on the single-process cache fallback), 429 in
the envelope with Retry-After, property isolation, failed authentications per address, and
failing open when Redis is down. The Redis Lua path runs where REDIS_URL is set (CI)."""

import os
import uuid

import pytest

from apps.portal import ratelimit
from tests.factories import directory as d
from tests.portal.conftest import unit_client

BURST, RATE = 100, 80


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_full_bucket_lets_exactly_the_burst_through_then_refills_at_the_rate():
    buckets, clock, key = ratelimit._CacheBuckets(), Clock(), f"t:{uuid.uuid4()}"

    def take():
        return buckets.take(key, burst=BURST, rate=RATE, cost=1, clock=clock)

    assert sum(take().allowed for _ in range(200)) == 100
    refused = take()
    assert not refused.allowed and refused.wait == pytest.approx(1 / 80) and refused.retry_after == 1
    clock.now += 0.5  # 40 tokens back
    assert sum(take().allowed for _ in range(100)) == 40
    clock.now += 10  # never more than the burst
    assert sum(take().allowed for _ in range(300)) == 100


def test_accepted_over_time_is_burst_plus_rate_times_elapsed():
    buckets, clock, key = ratelimit._CacheBuckets(), Clock(), f"t:{uuid.uuid4()}"
    accepted = 0
    for _ in range(3000):  # 300 req/s for 10 s
        accepted += buckets.take(key, burst=BURST, rate=RATE, cost=1, clock=clock).allowed
        clock.now += 1 / 300
    assert accepted == pytest.approx(100 + 80 * 10, abs=2) and accepted <= 100 + 80 * 10 + 1


def test_looking_takes_nothing():
    decision, tokens, _ = ratelimit.bucket_take(5.0, 0.0, 0.0, burst=5, rate=1, cost=0)
    assert decision.allowed and tokens == 5.0
    decision, tokens, _ = ratelimit.bucket_take(0.5, 0.0, 0.0, burst=5, rate=1, cost=0)
    assert not decision.allowed and decision.wait == pytest.approx(0.5)


@pytest.mark.django_db
def test_over_the_limit_is_429_in_the_envelope_and_other_properties_are_untouched(building, settings):
    settings.KEYHOUSE_PORTAL_RATE_BURST, settings.KEYHOUSE_PORTAL_RATE_PER_SECOND = 3, 1
    b = building
    client = unit_client(b.token1)
    path = f"/api/portal/v1/residents/properties/{b.prop.pk}/units/users/{b.ulla.user_id}"
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(path)
    body = d.refused(response, 429)
    assert response["Retry-After"] == "1" and "too many requests" in body["error"]

    from apps.core.actors import SYSTEM
    from apps.portal import services

    other = d.property_create(display_name="Other")
    area, token = services.unit_create(prop=other, display_name="Flat 9", actor=SYSTEM)
    other_path = f"/api/portal/v1/residents/properties/{other.pk}/units/users/query"
    assert unit_client(token).post(other_path, {}, format="json").status_code == 200


@pytest.mark.django_db
def test_failed_authentications_count_per_address_not_per_property(building, settings):
    settings.KEYHOUSE_PORTAL_FAILED_AUTH_BURST = 2
    b = building
    path = f"/api/portal/v1/residents/properties/{b.prop.pk}/units/users/{b.ulla.user_id}"
    bad = unit_client("khr_000000000000_guess")
    assert [bad.get(path).status_code for _ in range(3)] == [401, 401, 429]
    # the property's own bucket is untouched: a caller from another address gets in
    good = unit_client(b.token1)
    assert good.get(path, REMOTE_ADDR="192.0.2.7").status_code == 200
    assert good.get(path).status_code == 429  # the guessing address waits


@pytest.mark.django_db
def test_redis_down_lets_requests_through_and_logs(building, settings, caplog):
    settings.REDIS_CACHE_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    b = building
    path = f"/api/portal/v1/residents/properties/{b.prop.pk}/units/users/{b.ulla.user_id}"
    try:
        assert unit_client(b.token1).get(path).status_code == 200
        assert "Redis unavailable" in caplog.text
    finally:
        ratelimit._backend = None


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_the_lua_bucket_in_redis_lets_exactly_the_burst_through(settings):
    settings.REDIS_CACHE_URL = settings.REDIS_CACHE_URL or os.environ["REDIS_URL"]
    try:
        backend = ratelimit._buckets()
        assert isinstance(backend, ratelimit._RedisBuckets)
        key = f"keyhouse:test:{uuid.uuid4()}"
        results = [backend.take(key, burst=BURST, rate=RATE, cost=1) for _ in range(200)]
        accepted = sum(r.allowed for r in results)
        assert 100 <= accepted <= 100 + 20  # 200 round trips take well under 0.25 s
        assert not results[-1].allowed or accepted > 100
    finally:
        ratelimit._backend = None
