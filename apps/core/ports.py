"""Ports: how a lower app asks a higher one a question without importing it.

Apps call down only (docs/ARCHITECTURE.md). Where a lower app needs a fact that a higher app
owns (access needs to know where the locks are; accounts which properties exist), the lower
app declares a Port and calls it; the higher app plugs its selector in from its
AppConfig.ready():

    # apps/access/doors.py (floor 4)
    installed = Port("access.doors.installed", "property id → {lock id: area id}")

    # apps/locks/apps.py (floor 6)
    doors.installed.provide(selectors.locks_installed)

Calling a port nobody provided is a programming error (the providing app is not installed or
its ready() did not run) and raises at once instead of answering wrongly.
"""

from collections.abc import Callable


class Port:
    def __init__(self, name: str, doc: str = ""):
        self.name, self.__doc__ = name, doc
        self._provider: Callable | None = None

    def provide(self, provider: Callable) -> Callable:
        self._provider = provider
        return provider

    def __call__(self, *args, **kwargs):
        if self._provider is None:
            raise RuntimeError(f"port {self.name} has no provider: the app that owns it registers one in ready()")
        return self._provider(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Port {self.name}>"
