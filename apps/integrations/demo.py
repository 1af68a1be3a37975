"""Demo integrations (`manage.py seed_demo`): the demo property linked to the Lockt emulator's
example instance (§9.13 seed), polled once, so `make run` shows a Lockt account with its users,
groups and locks; then the ParqEx and SmartphoneKey demos (`demo_vendors`).

The emulator is served by Keyhouse itself (`/_emulators/lockt/`, only with
KEYHOUSE_EMULATORS), at the address `make run` serves on (`demo_server.demo_site`). The first
poll runs after the demo data is committed; when nothing answers there yet (seed_demo runs
before `runserver`), a short-lived local server answers for the duration of the poll. A poll
that fails is printed and left to the schedule: the demo data stays.
"""

import requests
from django.conf import settings
from django.db import transaction

from apps.core.actors import SYSTEM
from apps.integrations import demo_vendors, services
from apps.integrations.demo_server import demo_site, served
from apps.integrations.models import IntegrationAccount
from apps.properties.demo import DEMO_PROPERTY_NAME
from apps.properties.models import Property

DEMO_ACCOUNT_NAME = "Lockt (emulator)"
# Spec §2.3's example pair: the emulator's instance with the doc seed (§9.13).
DEMO_CREDENTIALS = {"apiuser": "9r8ehveyb5h8mnwwet4yf9ugjynz8pkn", "apikey": "hqx7wde64vwe987fvg6q4zaautrs3p7j"}
EMULATOR_PATH = "/_emulators/lockt"


def seed_demo(stdout) -> None:
    lockt_seed_demo(stdout)
    demo_vendors.seed_demo(stdout)  # ParqEx and SmartphoneKey (issue 14)


def lockt_seed_demo(stdout) -> None:
    if not settings.KEYHOUSE_EMULATORS:
        stdout.write("Lockt demo account skipped: KEYHOUSE_EMULATORS is off.")
        return
    prop = Property.objects.alive().filter(display_name=DEMO_PROPERTY_NAME).first()
    if prop is None:
        return
    site = demo_site()
    account = IntegrationAccount.objects.filter(property=prop, kind="lockt", display_name=DEMO_ACCOUNT_NAME).first()
    if account is None:
        account = services.integration_account_create(
            prop=prop,
            kind="lockt",
            display_name=DEMO_ACCOUNT_NAME,
            base_url=f"{site}{EMULATOR_PATH}/api/v1",
            credentials=DEMO_CREDENTIALS,
            actor=SYSTEM,
        )
    transaction.on_commit(lambda: demo_poll(account_id=account.pk, site=site, stdout=stdout))


def demo_poll(*, account_id, site: str, stdout) -> None:
    """Turn on the emulator's `schedule_id` in level reads (so levels grant their doors on their
    schedules) and poll the demo account once."""
    with served(site):
        headers = {"apiuser": DEMO_CREDENTIALS["apiuser"], "apikey": DEMO_CREDENTIALS["apikey"]}
        try:
            requests.post(
                f"{site}{EMULATOR_PATH}/_control/switches",
                json={"accesslevel_doors_schedule_id": True},
                headers=headers,
                timeout=30,
            ).raise_for_status()
        except requests.RequestException as exc:
            stdout.write(f"Lockt demo account: the emulator at {site} did not answer ({type(exc).__name__}).")
            return
        run = services.integration_account_poll(account_id=account_id, trigger="seed_demo")
    if run is None:
        return
    counts = f"{run.fetched} fetched, {run.created} created, {run.updated} updated, {run.failed} failed"
    stdout.write(f"Lockt demo account polled: {run.status} ({counts}){': ' + run.error if run.error else ''}.")
