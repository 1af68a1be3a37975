import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

from apps.core.checks import log_startup_warnings  # noqa: E402 - needs the apps loaded above

log_startup_warnings()
