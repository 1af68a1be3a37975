import pytest


@pytest.fixture(autouse=True)
def _tasks_run_here(eager_celery):
    """Validation and apply are Celery tasks; these tests watch what they do (tests/conftest.py)."""
