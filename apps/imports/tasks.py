"""Celery entry points for import runs: take an id, call one service, exit quietly if the run
is gone or already past that step (a redelivered task is harmless)."""

from celery import shared_task

from apps.imports import services


@shared_task(time_limit=1800, soft_time_limit=1700)
def import_run_validate(run_id: str) -> str | None:
    """Parse and plan an uploaded run (the dry run)."""
    run = services.import_run_validate(run_id=run_id)
    return run.status if run else None


@shared_task(time_limit=3600, soft_time_limit=3500, acks_late=True, reject_on_worker_lost=True)
def import_run_apply(run_id: str) -> str | None:
    """Apply a run's plan; a worker lost mid-way rolls back and the task is delivered again."""
    run = services.import_run_apply(run_id=run_id)
    return run.status if run else None


@shared_task(time_limit=300, soft_time_limit=280)
def import_runs_resume() -> list[str]:
    """Beat: apply again the runs a dead worker left "applying" (services.import_runs_resume)."""
    return services.import_runs_resume()
