from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Keyhouse core"

    def ready(self):
        from django.core.signals import request_finished, request_started

        from apps.core import (
            checks,  # noqa: F401 - registers the system checks
            versions,
        )

        # The cache counters read by a request are kept until it ends (apps/core/versions.py).
        request_started.connect(versions.request_started_handler, dispatch_uid="core.versions.started")
        request_finished.connect(versions.request_finished_handler, dispatch_uid="core.versions.finished")
