"""Keyhouse settings: one module, every value from the environment with a development default.

With nothing set you get SQLite, eager Celery, a local-memory cache and files on local disk
(`make run`). Set DATABASE_URL / REDIS_URL for PostgreSQL, Redis broker and Redis cache.
Pattern: healthchecks `hc/settings.py`, paperless-ngx `parse_db_settings`.
"""

import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured

from apps.firmware import signing as firmware_signing
from apps.keys import kek as keys_kek
from config.env import env_bool, env_int, env_key_ring, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KEYHOUSE_VAR_DIR", str(BASE_DIR / "var")))

# --- core -----------------------------------------------------------------------------
DEV_SECRET_KEY = "dev-insecure-keyhouse-secret-key-change-me-in-production"
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_secret("SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY (or SECRET_KEY_FILE) to a real secret")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "apps.core.admin_config.KeyhouseAdminConfig",  # django.contrib.admin with the Keyhouse dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",  # staff sign-in lockout ("Staff sign-in" below)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "apps.core",
    "apps.accounts",
    "apps.events",
    "apps.properties",
    "apps.areas",
    "apps.access",
    "apps.locks",
    "apps.firmware",
    "apps.keys",
    "apps.devices",
    "apps.integrations",
    "apps.integrations.lockt.emulator",
    "apps.imports",
    "apps.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every page (the "https and browser headers" block below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # First of ours: turns every error under /api/ (even Django's own 404/500) into the envelope.
    "apps.core.api.middleware.ApiEnvelopeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # CommonMiddleware, minus the APPEND_SLASH redirect for API writes (a 404 in the envelope instead).
    "apps.core.api.middleware.ApiCommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): a TOTP code this session
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.api.idempotency.IdempotencyMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: answers a locked-out sign-in
]

# --- staff sign-in (docs/ADMIN.md "Signing in") ----------------------------------------------
# django-axes counts failed admin sign-ins per account and per address (either one locks);
# the API and the portal have their own throttles, so axes watches the admin site only.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = env_int("KEYHOUSE_STAFF_SIGN_IN_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("KEYHOUSE_STAFF_LOCKOUT_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"  # the admin form's field (its value is the email)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "apps.core.admin_two_factor.client_address"
AXES_VERBOSE = False
# Two-factor (TOTP, django-otp): a staff member who set it up must enter a code at every sign-in;
# with KEYHOUSE_STAFF_OTP_REQUIRED every staff member must set it up before using the admin.
KEYHOUSE_STAFF_OTP_REQUIRED = env_bool("KEYHOUSE_STAFF_OTP_REQUIRED", False)
OTP_TOTP_ISSUER = "Keyhouse"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database: SQLite unless DATABASE_URL (https://github.com/jazzband/dj-database-url) ---
DATABASE_URL = env_str("DATABASE_URL", "")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'keyhouse.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
# WAL + a busy timeout let the dev server, an eager task and the shell share the file. Every
# transaction begins IMMEDIATE (takes the write lock at BEGIN): under WAL a deferred transaction
# that reads and then writes fails at once with "database is locked" when another connection
# wrote in between, whatever the busy timeout, so two concurrent syncs (read the lock row, then
# write it) answered 500s. IMMEDIATE makes the second wait on the busy timeout instead.
SQLITE_OPTIONS = {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- cache + Celery: Redis when REDIS_URL, else in-process ---------------------------------
from config.celery_settings import CELERY_TASK_ALWAYS_EAGER, REDIS_URL  # noqa: E402


def _next_redis_db(url: str) -> str:
    """The same Redis server, next database number: cache.clear() must never flush the queue."""
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{db + 1}"))


# The cache (throttle counters) gets its own Redis database, so clearing it never drops queued tasks.
REDIS_CACHE_URL = env_str("REDIS_CACHE_URL", _next_redis_db(REDIS_URL) if REDIS_URL else "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

from config.celery_settings import *  # noqa: E402, F403 (the broker, queues, routes, beat)

# --- integrations (docs/INTEGRATIONS.md) ----------------------------------------------------
# Failed polls back off exponentially from BASE, doubling per consecutive failure, capped at CAP,
# with jitter; a remote Retry-After longer than that wins (up to RETRY_AFTER_MAX).
KEYHOUSE_INTEGRATION_BACKOFF_BASE_SECONDS = env_int("KEYHOUSE_INTEGRATION_BACKOFF_BASE_SECONDS", 60, minimum=1)
KEYHOUSE_INTEGRATION_BACKOFF_CAP_SECONDS = env_int("KEYHOUSE_INTEGRATION_BACKOFF_CAP_SECONDS", 3600, minimum=1)
KEYHOUSE_INTEGRATION_RETRY_AFTER_MAX_SECONDS = env_int(
    "KEYHOUSE_INTEGRATION_RETRY_AFTER_MAX_SECONDS", 24 * 3600, minimum=1
)
# Remote calls: seconds to connect and to wait for each read (a hung remote fails one account only).
KEYHOUSE_INTEGRATION_CONNECT_TIMEOUT = env_int("KEYHOUSE_INTEGRATION_CONNECT_TIMEOUT", 5, minimum=1)
KEYHOUSE_INTEGRATION_READ_TIMEOUT = env_int("KEYHOUSE_INTEGRATION_READ_TIMEOUT", 30, minimum=1)
# How many more times an idempotent call is sent after a transient failure, within one poll.
KEYHOUSE_INTEGRATION_HTTP_RETRIES = env_int("KEYHOUSE_INTEGRATION_HTTP_RETRIES", 2, minimum=0)
# A queued poll not started by then is dropped (the dispatcher enqueues it again once its lease ends).
KEYHOUSE_INTEGRATION_POLL_TASK_EXPIRES = env_int("KEYHOUSE_INTEGRATION_POLL_TASK_EXPIRES", 600, minimum=10)
# Plain-http base URLs (local emulators) are refused unless this is on; on by default only with DEBUG.
KEYHOUSE_INTEGRATION_ALLOW_HTTP = env_bool("KEYHOUSE_INTEGRATION_ALLOW_HTTP", DEBUG)

# --- auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
DEV_SECRET_PEPPER = "dev-insecure-keyhouse-pepper-0000"
# Keyed-hash peppers for API keys and sign-in tokens, `id:key,...`; the highest id hashes new
# secrets, older ids still verify (and are re-hashed on use). NetBox API_TOKEN_PEPPERS.
KEYHOUSE_SECRET_PEPPERS = env_key_ring("KEYHOUSE_SECRET_PEPPERS", {0: DEV_SECRET_PEPPER})
if not DEBUG and KEYHOUSE_SECRET_PEPPERS.get(0) == DEV_SECRET_PEPPER:
    raise ImproperlyConfigured("DEBUG is off: set KEYHOUSE_SECRET_PEPPERS to your own 'id:key' ring")
KEYHOUSE_USER_TOKEN_TTL_SECONDS = env_int("KEYHOUSE_USER_TOKEN_TTL_SECONDS", 30 * 24 * 3600, minimum=60)
KEYHOUSE_SIGN_IN_CODE_TTL_SECONDS = env_int("KEYHOUSE_SIGN_IN_CODE_TTL_SECONDS", 600, minimum=60)
KEYHOUSE_SIGN_IN_CODE_MAX_ATTEMPTS = env_int("KEYHOUSE_SIGN_IN_CODE_MAX_ATTEMPTS", 5, minimum=1)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Keyhouse <no-reply@keyhouse.local>")

# --- API ---------------------------------------------------------------------------------
KEYHOUSE_API_MAX_BODY_BYTES = env_int("KEYHOUSE_API_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
KEYHOUSE_PAGE_SIZE_DEFAULT = env_int("KEYHOUSE_PAGE_SIZE_DEFAULT", 50, minimum=1, maximum=500)
KEYHOUSE_PAGE_SIZE_MAX = 500
KEYHOUSE_IDEMPOTENCY_TTL_SECONDS = env_int("KEYHOUSE_IDEMPOTENCY_TTL_SECONDS", 24 * 3600, minimum=60)
KEYHOUSE_API_DOCS_PUBLIC = env_bool("KEYHOUSE_API_DOCS_PUBLIC", True)
# Resident portal (docs/PORTAL.md): its address in invitation emails, and the per-property
# token bucket of the portal API (burst, refill per second).
KEYHOUSE_PORTAL_URL = env_str("KEYHOUSE_PORTAL_URL", "http://localhost:8000/portal/")
KEYHOUSE_PORTAL_RATE_BURST = env_int("KEYHOUSE_PORTAL_RATE_BURST", 100, minimum=1)
KEYHOUSE_PORTAL_RATE_PER_SECOND = env_int("KEYHOUSE_PORTAL_RATE_PER_SECOND", 80, minimum=1)
KEYHOUSE_PORTAL_FAILED_AUTH_BURST = env_int("KEYHOUSE_PORTAL_FAILED_AUTH_BURST", 20, minimum=1)

# --- vendor emulators (docs/INTEGRATIONS.md) --------------------------------------------
# /_emulators/<kind>/ (stand-ins for vendor clouds, with /_control/ hooks) is mounted when true:
# by default in development (DEBUG) and under tests, off with DEBUG=false unless set explicitly.
_TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]
KEYHOUSE_EMULATORS = env_bool("KEYHOUSE_EMULATORS", DEBUG or _TESTING)
# Where `make run` serves Keyhouse (and so its emulators): seed_demo links the demo property's
# Lockt account to the emulator there (apps/integrations/demo.py).
KEYHOUSE_DEMO_SITE_URL = env_str("KEYHOUSE_DEMO_SITE_URL", "http://127.0.0.1:8000")

# --- firmware (docs/FIRMWARE.md) -------------------------------------------------------
KEYHOUSE_FIRMWARE_MAX_BYTES = env_int("KEYHOUSE_FIRMWARE_MAX_BYTES", 64 * 1024 * 1024, minimum=1)
# Routes whose request body may exceed KEYHOUSE_API_MAX_BODY_BYTES: (path regex, setting with the limit).
KEYHOUSE_API_BODY_LIMIT_ROUTES = [
    (r"^/api/v1/firmware/[^/]+/upload$", "KEYHOUSE_FIRMWARE_MAX_BYTES"),
    (r"^/api/v1/properties/[^/]+/imports$", "KEYHOUSE_IMPORT_MAX_BODY_BYTES"),
]
# Imports (docs/IMPORT.md): the largest file accepted; the request may carry 64 KiB of multipart framing more.
KEYHOUSE_IMPORT_MAX_BYTES = env_int("KEYHOUSE_IMPORT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
KEYHOUSE_IMPORT_MAX_BODY_BYTES = KEYHOUSE_IMPORT_MAX_BYTES + 64 * 1024
# Ed25519 key that signs firmware manifests: base64 of the raw 32-byte private key, and its id.
# Without one, development generates a key into var/; with DEBUG off that is refused.
KEYHOUSE_FIRMWARE_SIGNING_KEY = env_secret("KEYHOUSE_FIRMWARE_SIGNING_KEY", "")
if not KEYHOUSE_FIRMWARE_SIGNING_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DEBUG is off: set KEYHOUSE_FIRMWARE_SIGNING_KEY (or _FILE), see docs/FIRMWARE.md")
    KEYHOUSE_FIRMWARE_SIGNING_KEY = firmware_signing.dev_key_text(VAR_DIR)
try:
    _firmware_public = firmware_signing.public_key(firmware_signing.parse_private_key(KEYHOUSE_FIRMWARE_SIGNING_KEY))
except ValueError as exc:
    raise ImproperlyConfigured(f"KEYHOUSE_FIRMWARE_SIGNING_KEY {exc}") from None
KEYHOUSE_FIRMWARE_SIGNING_KEY_ID = env_str(
    "KEYHOUSE_FIRMWARE_SIGNING_KEY_ID", firmware_signing.key_id_for(_firmware_public)
)
# Firmware images: local files by default, S3-compatible storage when a bucket is named.
KEYHOUSE_FIRMWARE_S3_BUCKET = env_str("KEYHOUSE_FIRMWARE_S3_BUCKET", "")
if KEYHOUSE_FIRMWARE_S3_BUCKET:
    # https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html (unset = boto3's defaults)
    FIRMWARE_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": KEYHOUSE_FIRMWARE_S3_BUCKET,
            "location": env_str("KEYHOUSE_FIRMWARE_S3_PREFIX", "firmware"),
            "endpoint_url": env_str("KEYHOUSE_FIRMWARE_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("KEYHOUSE_FIRMWARE_S3_REGION", "") or None,
            "addressing_style": env_str("KEYHOUSE_FIRMWARE_S3_ADDRESSING_STYLE", "") or None,
            "access_key": env_secret("KEYHOUSE_FIRMWARE_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_secret("KEYHOUSE_FIRMWARE_S3_SECRET_ACCESS_KEY", "") or None,
            "file_overwrite": False,
            "default_acl": None,
        },
    }
else:
    FIRMWARE_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env_str("KEYHOUSE_FIRMWARE_ROOT", str(VAR_DIR / "firmware"))},
    }

# --- locks: key maps, sync, clocks (docs/PROTOCOL.md §6, §8, §9) ----------------------
# A key map is valid this long after it is signed (`notAfter`); a lock that cannot sync for
# longer admits nobody. Maps ending within REISSUE_BEFORE are re-signed by the sweep.
KEYHOUSE_KEY_MAP_TTL_SECONDS = env_int("KEYHOUSE_KEY_MAP_TTL_SECONDS", 7 * 24 * 3600, minimum=3600)
KEYHOUSE_KEY_MAP_REISSUE_BEFORE_SECONDS = env_int(
    "KEYHOUSE_KEY_MAP_REISSUE_BEFORE_SECONDS", 2 * 24 * 3600, minimum=600, maximum=KEYHOUSE_KEY_MAP_TTL_SECONDS - 600
)
# A lock sync whose signed syncDate is further than this from server time is refused (400,
# with signed server time so the lock can set its clock and retry).
KEYHOUSE_LOCK_CLOCK_SKEW_SECONDS = env_int("KEYHOUSE_LOCK_CLOCK_SKEW_SECONDS", 300, minimum=5)
# Signed lock commands (provision / install / uninstall) are valid this long (`notAfter`).
KEYHOUSE_LOCK_COMMAND_TTL_SECONDS = env_int("KEYHOUSE_LOCK_COMMAND_TTL_SECONDS", 24 * 3600, minimum=60)
# After a propertyKey rotation the old key keeps co-signing this long, so locks learn the new one.
KEYHOUSE_PROPERTY_KEY_OVERLAP_SECONDS = env_int("KEYHOUSE_PROPERTY_KEY_OVERLAP_SECONDS", 30 * 24 * 3600, minimum=0)
# --- lock health (docs/INTEGRATIONS.md "Lock health") ---
# A lock's battery is low below this percent; it is online while its last contact is at most
# ONLINE_MINUTES old; a Keyhouse lock's door is held open after HELD_OPEN_SECONDS open
# (ParqEx doors use their own time_before_door_open_alert or auto-close delay).
KEYHOUSE_LOCK_BATTERY_LOW_PERCENT = env_int("KEYHOUSE_LOCK_BATTERY_LOW_PERCENT", 20, minimum=0, maximum=100)
KEYHOUSE_LOCK_ONLINE_MINUTES = env_int("KEYHOUSE_LOCK_ONLINE_MINUTES", 30, minimum=1)
KEYHOUSE_LOCK_HELD_OPEN_SECONDS = env_int("KEYHOUSE_LOCK_HELD_OPEN_SECONDS", 600, minimum=1)
# Access logs one sync may carry.
KEYHOUSE_LOCK_ACCESS_LOGS_MAX = env_int("KEYHOUSE_LOCK_ACCESS_LOGS_MAX", 5000, minimum=1)

# --- key-encryption keys (docs/PROTOCOL.md §5 "Private keys at rest") -----------------
# Ring of AES-256 keys that wrap every server-held private key, `id:base64,...` (each key is
# base64 of 32 random bytes), and the id that wraps new keys (default: the highest). Rotate:
# add the new key to every process with KEYHOUSE_KEK_CURRENT still on the old id, then move
# CURRENT, run `manage.py rotate_kek`, then drop the old key. Development generates one into
# var/; DEBUG off refuses to start without a ring.
KEYHOUSE_KEK_RING = env_key_ring("KEYHOUSE_KEK_RING", {})
if not KEYHOUSE_KEK_RING:
    if not DEBUG:
        raise ImproperlyConfigured("DEBUG is off: set KEYHOUSE_KEK_RING (or _FILE), see docs/PROTOCOL.md")
    KEYHOUSE_KEK_RING = {0: keys_kek.dev_kek_text(VAR_DIR)}
KEYHOUSE_KEK_CURRENT = env_int("KEYHOUSE_KEK_CURRENT", max(KEYHOUSE_KEK_RING), minimum=0)
try:
    keys_kek.kek_ring_parse(KEYHOUSE_KEK_RING, KEYHOUSE_KEK_CURRENT)
except ValueError as exc:
    raise ImproperlyConfigured(f"KEYHOUSE_KEK_RING {exc}") from None

# --- user devices (docs/PROTOCOL.md §7 "Device sync") ----------------------------------
# A sync whose signed syncDate is further than this from server time is refused (400).
KEYHOUSE_DEVICE_SYNC_MAX_SKEW_SECONDS = env_int("KEYHOUSE_DEVICE_SYNC_MAX_SKEW_SECONDS", 300, minimum=5)
# A phone's access map (and each sync's renewal of it) is valid this long: `notAfter`.
KEYHOUSE_DEVICE_MAP_TTL_SECONDS = env_int("KEYHOUSE_DEVICE_MAP_TTL_SECONDS", 3 * 24 * 3600, minimum=60)

# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["apps.core.api.envelope.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.accounts.authentication.SecretAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.api.permissions.OperationPermission"],
    "DEFAULT_THROTTLE_CLASSES": [
        # Address first: it counts even when the credential then fails (see core.api.views).
        "apps.core.api.throttling.AddressRateThrottle",
        "apps.core.api.throttling.PrincipalRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "principal": env_str("KEYHOUSE_THROTTLE_PRINCIPAL", "6000/min"),
        "address": env_str("KEYHOUSE_THROTTLE_ADDRESS", "12000/min"),
        "sign_in": env_str("KEYHOUSE_THROTTLE_SIGN_IN", "10/min"),
        "email_change": env_str("KEYHOUSE_THROTTLE_EMAIL_CHANGE", "10/hour"),
    },
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.EnvelopeAutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "NUM_PROXIES": env_int("KEYHOUSE_NUM_PROXIES", 0, minimum=0),
}

# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "DoorLock API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Keyhouse implementation of the DoorLock API. See docs/API.md for the envelope, "
    "errors, paging, authentication, permissions and idempotency.",
    "LICENSE": {"name": "Apache 2.0", "url": "http://www.apache.org/licenses/LICENSE-2.0.html"},
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_AUTHENTICATION": ["rest_framework.authentication.SessionAuthentication"],
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny" if KEYHOUSE_API_DOCS_PUBLIC else "rest_framework.permissions.IsAdminUser"
    ],
    # areaType and groupType share the values resident/common/staff: one enum serves both.
    "ENUM_NAME_OVERRIDES": {
        "AreaOrGroupTypeEnum": "apps.areas.models.AreaAreaType",
        "UserDeviceTypeEnum": "apps.devices.choices.UserDeviceDeviceType",
        "IntegrationAccountKindEnum": "apps.integrations.choices.IntegrationAccountKind",
        "IntegrationAccountStatusEnum": "apps.integrations.choices.IntegrationAccountStatus",
        "SyncRunStatusEnum": "apps.integrations.choices.SyncRunStatus",
        "UnitUserStatusEnum": "apps.portal.models.UnitUserStatus",
        "ImportKindEnum": "apps.imports.models.ImportRunKind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.postprocess_request_variants",  # after the enums: see that module
        "apps.core.api.links.postprocess_links",  # create -> get/update/delete, for stateful clients
    ],
    # /compat/ speaks other vendors' shapes; it has its own schema (docs/INTEGRATIONS.md).
    "PREPROCESSING_HOOKS": ["apps.integrations.smartphonekey.compat.schema.exclude_compat"],
}

# --- i18n, static, media ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it even before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("KEYHOUSE_MEDIA_ROOT", str(VAR_DIR / "media")))
# https://docs.djangoproject.com/en/5.2/ref/settings/#storages ("firmware": see the firmware block)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "firmware": FIRMWARE_STORAGE,
}

# --- HTTPS and browser headers: `manage.py check --deploy` is clean with DEBUG off -------
# https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load-balancer probes speak plain HTTP on the inside
# Behind a proxy that ends TLS, name the header it sets, e.g. `HTTP_X_FORWARDED_PROTO:https`;
# only when the proxy always sets (or strips) that header, or anyone could claim HTTPS.
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER", "")
if _proxy_ssl_header:
    _name, _sep, _value = _proxy_ssl_header.partition(":")
    if not (_sep and _name.startswith("HTTP_") and _value):
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO:https")
    SECURE_PROXY_SSL_HEADER = (_name, _value)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every page loads only its own scripts, styles, fonts and images (django-csp): no inline
# script and no third-party origin, so an injected <script> does not run. Inline *styles* stay
# allowed: the admin's widgets and Swagger UI / ReDoc set style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF],
        "style-src": [csp_constants.SELF, csp_constants.UNSAFE_INLINE],
        "img-src": [csp_constants.SELF, "data:"],
        "font-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "worker-src": [csp_constants.SELF, "blob:"],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.SELF],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    }
}

# Error reports (admins' email, DEBUG's 500 page) hide form fields, local variables and URL
# passwords that look secret by name, decorated or not (apps/core/reporting.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "apps.core.reporting.RedactingExceptionReporterFilter"

# --- logging: to stderr, never the request headers (secrets travel there) --------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # urllib3 logs each request's URL at DEBUG, query string included (Lockt queries carry card
        # numbers): integrations log their calls themselves, without it (apps/integrations/http.py).
        "urllib3": {"level": "WARNING"},
        # django-axes logs every staff sign-in at INFO; lockouts (what an operator needs) at WARNING
        "axes": {"level": "WARNING"},
        # one line per task run: useful from a worker, noise when tasks run eagerly in-process
        "celery.app.trace": {
            "level": env_str("CELERY_TRACE_LOG_LEVEL", "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO")
        },
    },
}
