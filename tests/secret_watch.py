"""Secrets never reach a log: a watch over the whole test session.

Every bearer secret (API keys, sign-in tokens, lock secrets: `accounts.credentials.
secret_generate`), every private key (`keys.crypto.generate`) and every third-party
credential given to an integration account the suite creates is remembered, in the forms it
could be written in (the string; a key's raw bytes as base64, base64url and hex). Every log
record the suite emits from Keyhouse, Django, Celery or gunicorn is kept as the line a
handler would write (message, arguments and traceback). At the end of the session, any
record holding any secret fails the run (`tests/conftest.py`'s `pytest_sessionfinish`),
naming the logger and the kind of secret, never the secret.

Keyhouse's own loggers are watched down to DEBUG, so a secret logged only when someone sets
LOG_LEVEL=DEBUG is caught too. Not covered: a live Celery worker's process (its logs are its
own) and six-digit sign-in codes (too short to tell from other numbers in a log).
"""

import base64
import logging
import re
import sys
from dataclasses import dataclass, field

# Characters of every form a secret is remembered in (credential strings, base64, base64url,
# hex), at least 16 long; `=` only as base64 padding, so `secret=<value>` splits before it.
_SECRET_RUNS = re.compile(r"[A-Za-z0-9_\-+/]{16,}={0,2}")
WATCHED_LOGGERS = ("apps", "config", "tests", "keyhouse", "django", "celery", "gunicorn")


@dataclass
class Watch:
    secrets: dict[str, str] = field(default_factory=dict)  # written form → what it is
    lines: list[tuple[str, str]] = field(default_factory=list)  # (logger, formatted line)
    installed: bool = False

    def remember(self, kind: str, value: str | bytes) -> None:
        if isinstance(value, bytes):
            for form in (
                base64.b64encode(value).decode(),
                base64.urlsafe_b64encode(value).decode().rstrip("="),
                value.hex(),
            ):
                self.secrets[form] = kind
        else:
            self.secrets[value] = kind

    def mark(self) -> int:
        return len(self.lines)

    def leaks(self, since: int = 0) -> list[tuple[str, str]]:
        """(logger, kind of secret) for each log line holding a secret: each line is cut into
        the runs of characters a secret is written in, each run looked up (not every secret
        searched in every line: the suite makes thousands of both)."""
        found = []
        for logger_name, line in self.lines[since:]:
            for run in _SECRET_RUNS.findall(line):
                kind = self.secrets.get(run)
                if kind:
                    found.append((logger_name, kind))
        return found

    def forget(self, since: int) -> None:
        del self.lines[since:]


WATCH = Watch()


class _Keep(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".", 1)[0] in WATCHED_LOGGERS or record.name == "root":
            WATCH.lines.append((record.name, self.format(record)))


def _replace_everywhere(original, replacement) -> None:
    """Swap a function for its wrapper in its module and in every module that imported it by name."""
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "") or ""
        if not name.startswith(("apps.", "tests.", "config.")):
            continue
        for attribute, value in list(vars(module).items()):
            if value is original:
                setattr(module, attribute, replacement)


def install() -> None:
    """Start watching (once per session, after Django's apps are loaded)."""
    from apps.accounts import credentials
    from apps.keys import crypto

    original_secret_generate = credentials.secret_generate
    original_generate = crypto.generate

    def secret_generate(kind):
        parsed = original_secret_generate(kind)
        WATCH.remember(f"{kind} secret", parsed.secret)
        return parsed

    def generate(algorithm):
        pair = original_generate(algorithm)
        WATCH.remember(f"{algorithm} private key", bytes(pair.private))
        return pair

    _replace_everywhere(original_secret_generate, secret_generate)
    _replace_everywhere(original_generate, generate)
    _watch_integration_credentials()

    WATCH.installed = True
    keep_watching()


def _watch_integration_credentials() -> None:
    """Third-party credentials given to integration accounts (create and update)."""
    from apps.integrations import services

    for name in ("integration_account_create", "integration_account_update"):
        original = getattr(services, name)

        def wrapper(*args, _original=original, **kwargs):
            for value in (kwargs.get("credentials") or {}).values():
                if isinstance(value, str) and len(value) >= 16:
                    WATCH.remember("integration credential", value)
            return _original(*args, **kwargs)

        _replace_everywhere(original, wrapper)


_HANDLER = _Keep()


def keep_watching() -> None:
    """(Re)attach the handler: anything that runs `django.setup()` again (Celery's Django fixup
    does, when a test loads the task modules) replaces the root logger's handlers and levels."""
    if not WATCH.installed:
        return
    root = logging.getLogger()
    if _HANDLER not in root.handlers:
        root.addHandler(_HANDLER)
    for name in ("apps", "config", "tests", "keyhouse"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    # Lowering our loggers to DEBUG must not print more: the console handlers keep their level.
    for existing in root.handlers:
        if existing is not _HANDLER and existing.level == logging.NOTSET:
            existing.setLevel(root.level)
