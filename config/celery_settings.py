"""Celery's settings (read by Django's settings module, which star-imports them): the broker,
delivery guarantees, queues and routes, and the beat schedule. Values from the environment with
a development default, as in config/settings.py; Redis when REDIS_URL is set, else eager tasks."""

from kombu import Queue as KombuQueue

from config.env import env_bool, env_int, env_str

REDIS_URL = env_str("REDIS_URL", "")

# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only after it ran, and re-queued if its worker dies mid-way:
# together with idempotent tasks this is what "a crashed worker loses nothing" rests on.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a web request when the broker is down: the outbox sweep re-sends.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# Queues (docs/SCALING.md): key-map builds and integration polls each on a queue of their own,
# so a build-all or a slow remote never holds up event processing on the default queue. A worker
# started without -Q (`make worker`) consumes all three; on several hosts, give each queue its
# own workers (`celery -A config worker -Q keymaps`).
KEYHOUSE_QUEUE_DEFAULT = "celery"
KEYHOUSE_QUEUE_KEY_MAPS = env_str("KEYHOUSE_QUEUE_KEY_MAPS", "keymaps")
KEYHOUSE_QUEUE_INTEGRATIONS = env_str("KEYHOUSE_QUEUE_INTEGRATIONS", "integrations")
KEYHOUSE_QUEUES = (KEYHOUSE_QUEUE_DEFAULT, KEYHOUSE_QUEUE_KEY_MAPS, KEYHOUSE_QUEUE_INTEGRATIONS)
CELERY_TASK_DEFAULT_QUEUE = KEYHOUSE_QUEUE_DEFAULT
CELERY_TASK_QUEUES = tuple(KombuQueue(name, routing_key=name) for name in dict.fromkeys(KEYHOUSE_QUEUES))
CELERY_TASK_ROUTES = {
    "apps.locks.tasks.key_maps_build": {"queue": KEYHOUSE_QUEUE_KEY_MAPS},
    "apps.locks.tasks.key_maps_build_part": {"queue": KEYHOUSE_QUEUE_KEY_MAPS},
    "apps.locks.tasks.key_maps_sweep": {"queue": KEYHOUSE_QUEUE_KEY_MAPS},
    "apps.devices.tasks.device_maps_build": {"queue": KEYHOUSE_QUEUE_KEY_MAPS},
    "apps.devices.tasks.device_maps_sweep": {"queue": KEYHOUSE_QUEUE_KEY_MAPS},
    "apps.integrations.tasks.integration_account_poll": {"queue": KEYHOUSE_QUEUE_INTEGRATIONS},
    "apps.integrations.tasks.integration_accounts_dispatch": {"queue": KEYHOUSE_QUEUE_INTEGRATIONS},
}
CELERY_BEAT_SCHEDULE = {
    "events-sweep": {
        "task": "apps.events.tasks.events_sweep",
        "schedule": env_int("KEYHOUSE_EVENTS_SWEEP_SECONDS", 60, minimum=5),
        "options": {"expires": env_int("KEYHOUSE_EVENTS_SWEEP_SECONDS", 60, minimum=5) - 2},
    },
    "idempotency-purge": {
        "task": "apps.core.tasks.idempotency_purge",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    "grants-expire": {
        "task": "apps.access.tasks.grants_expire",
        "schedule": 60,
        "options": {"expires": 55},
    },
    # docs/IMPORT.md: an import whose worker died mid-apply is applied again (not after Redis's hour)
    "imports-resume": {
        "task": "apps.imports.tasks.import_runs_resume",
        "schedule": 60,
        "options": {"expires": 55},
    },
    # docs/PROTOCOL.md §6.3: builds lost key-map tasks left waiting, re-signs maps nearing notAfter
    "key-maps-sweep": {
        "task": "apps.locks.tasks.key_maps_sweep",
        "schedule": 60,
        "options": {"expires": 55},
    },
    # docs/PROTOCOL.md §7.5: builds device maps lost tasks left behind
    "device-maps-sweep": {
        "task": "apps.devices.tasks.device_maps_sweep",
        "schedule": 60,
        "options": {"expires": 55},
    },
    # docs/INTEGRATIONS.md "Lock health": offline / held open turn with time, not with a report
    "lock-health-sweep": {
        "task": "apps.integrations.tasks.lock_health_sweep",
        "schedule": 60,
        "options": {"expires": 55},
    },
    # docs/INTEGRATIONS.md "Polling": enqueues one poll task per due account
    "integration-accounts-dispatch": {
        "task": "apps.integrations.tasks.integration_accounts_dispatch",
        "schedule": 60,
        "options": {"expires": 55},
    },
}
