"""Bench settings: the real settings, plus the bench-only URLconf and throttle rates high enough
never to answer 429 during a load run. Used only by tests/bench/run.py (DJANGO_SETTINGS_MODULE).
"""

from config.settings import *  # noqa: F403
from config.settings import REST_FRAMEWORK as _BASE_REST_FRAMEWORK

ROOT_URLCONF = "tests.bench.urls"

REST_FRAMEWORK = {
    **_BASE_REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **_BASE_REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "principal": "100000000/min",
        "address": "100000000/min",
        "sign_in": "100000000/min",  # the protocol part signs in one resident per connection
    },
}
