# Keyhouse: `make run` and `make test` are all a fresh machine needs (Python 3.11).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench soak lint worker beat serve-prod install migrate chromium clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py admin_ensure
	KEYHOUSE_PORTAL_URL=http://$(HOST):$(PORT)/portal/ KEYHOUSE_DEMO_SITE_URL=http://$(HOST):$(PORT) $(PY) manage.py seed_demo
	@echo "Keyhouse on http://$(HOST):$(PORT)/  (admin /admin/, API /api/v1/, docs /api/v1/docs/)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# Browser tests need Debian's chromium; install it when missing and we may (root + apt).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "warning: chromium missing and cannot be installed here; browser tests will be skipped"; fi; }

# The suite runs in parallel processes (pytest-xdist), one per CPU up to 4, each file in one
# process; TEST_PROCESSES=0 runs it in this one process.
TEST_PROCESSES ?= $(shell $(PYTHON) -c 'import os; print(min(os.cpu_count() or 1, 4))')

test: install chromium
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

bench: install
	$(PY) tests/bench/run.py

# Several hosts (network namespaces) under load, one web and one worker host killed mid-run:
# needs root, iproute2, PostgreSQL 15 and redis-server. Figures: docs/RELIABILITY.md.
soak: install
	$(PY) tests/soak/run.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO --schedule=var/celerybeat-schedule

# Production-like (gunicorn settings and request limits: config/gunicorn.py): needs SECRET_KEY, KEYHOUSE_SECRET_PEPPERS, KEYHOUSE_FIRMWARE_SIGNING_KEY, KEYHOUSE_KEK_RING and DEBUG=false (plus DATABASE_URL/REDIS_URL).
serve-prod: migrate
	$(PY) manage.py collectstatic --noinput -v0
	$(VENV)/bin/gunicorn -c config/gunicorn.py config.wsgi:application --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-2} --access-logfile -

clean:
	rm -rf $(VENV) var .pytest_cache
