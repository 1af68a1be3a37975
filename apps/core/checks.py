"""Start-up checks: Django runs them for manage.py commands (runserver, migrate, check), and
the web process logs them when it starts (config/wsgi.py, config/asgi.py), since gunicorn
runs no system checks."""

import logging

from django.conf import settings
from django.core.checks import Tags, register
from django.core.checks import Warning as CheckWarning

logger = logging.getLogger("keyhouse.startup")


@register(Tags.caches)
def check_shared_cache(app_configs=None, **kwargs) -> list[CheckWarning]:
    """Production without Redis: the throttles count per process and tasks run in the web process."""
    if settings.DEBUG or settings.REDIS_URL:
        return []
    return [
        CheckWarning(
            "DEBUG is off but REDIS_URL is unset: rate limits are counted in each process's own "
            "memory (every web worker and machine allows the full rate), and Celery tasks run inside "
            "the web request instead of on a worker.",
            hint='Set REDIS_URL in production (docs/API.md, "Rate limits").',
            id="keyhouse.W001",
        )
    ]


def log_startup_warnings() -> None:
    """Log what the checks above would say; for processes that run no system checks."""
    for warning in check_shared_cache():
        logger.warning("%s %s %s", warning.id, warning.msg, warning.hint)
