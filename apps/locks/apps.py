from django.apps import AppConfig


class LocksConfig(AppConfig):
    name = "apps.locks"
    label = "locks"
    verbose_name = "Locks"

    def ready(self):
        from apps.access import doors
        from apps.locks import handlers, selectors

        handlers.register()
        doors.provide(
            doors.DoorReaders(
                installed=selectors.locks_installed,
                names=selectors.lock_names,
                areas_and_kids=selectors.lock_areas_and_kids,
            )
        )
