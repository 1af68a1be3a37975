"""The demo's emulators answering while `seed_demo` runs: `manage.py seed_demo` runs before
`runserver`, so when nothing answers at the demo site yet, a short-lived local server of
Keyhouse itself (its `/_emulators/…`) answers for the block."""

import contextlib
import socket
import threading
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connections


def demo_site() -> str:
    """Where `make run` serves, so where the demo's emulators answer: KEYHOUSE_DEMO_SITE_URL,
    else the origin of KEYHOUSE_PORTAL_URL."""
    site = settings.KEYHOUSE_DEMO_SITE_URL
    if not site:
        parts = urlsplit(settings.KEYHOUSE_PORTAL_URL)
        site = f"{parts.scheme}://{parts.netloc}"
    return site.rstrip("/")


@contextlib.contextmanager
def served(site: str):
    """Keyhouse at `site` for the block: whatever already answers there, else a local server."""
    parts = urlsplit(site)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    with socket.socket() as probe:
        probe.settimeout(0.5)
        answering = probe.connect_ex((host, port)) == 0
    if answering:
        yield
        return

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:  # the demo's output stays short
            pass

    application = get_wsgi_application()

    def serve(environ, start_response):
        try:
            return application(environ, start_response)
        finally:
            connections.close_all()  # this thread's connections, before the server stops

    server: WSGIServer = make_server(host, port, serve, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="demo-emulators", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
