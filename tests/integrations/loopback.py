"""A real HTTP server on 127.0.0.1 for integration tests: scripted answers per path, and a log
of what it received. No mocked transport: requests go through sockets like in production."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a hung remote)


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict
    body: bytes


class LoopbackServer:
    """`answer(path, Answer(...), ...)` scripts the next answers for a path (the last one repeats);
    an unscripted path is a 404. `received` lists every request, in order."""

    def __init__(self):
        self.scripts: dict[str, list[Answer]] = {}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.received.append(
                        Received(self.command, parts.path, parts.query, dict(self.headers.items()), body)
                    )
                    script = server.scripts.get(parts.path)
                    answer = (script.pop(0) if len(script) > 1 else script[0]) if script else Answer(404, b"")
                if answer.delay:
                    time.sleep(answer.delay)
                payload = answer.body
                if isinstance(payload, dict | list):
                    payload = json.dumps(payload).encode()
                elif isinstance(payload, str):
                    payload = payload.encode()
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, path: str, *answers: Answer) -> None:
        with self._lock:
            self.scripts[path] = list(answers)

    def paths(self) -> list[str]:
        return [r.path for r in self.received]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
