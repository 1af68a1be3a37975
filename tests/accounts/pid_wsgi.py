"""config.wsgi's application, with each answer naming the worker process that served it, so a
test can see that both gunicorn workers answered (test_credential_cache_gunicorn.py)."""

import os

from config.wsgi import application as _application


def application(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Test-Worker-Pid", str(os.getpid()))], exc_info)

    return _application(environ, start)
