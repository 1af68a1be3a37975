"""Demo ParqEx and SmartphoneKey accounts (docs/INTEGRATIONS.md "Demo"): the demo property
linked to both emulators, ParqEx polled (its doors arrive as locks with health) and one
SmartphoneKey grant pushed, so `make run` shows both.

The emulators are served by Keyhouse itself (`/_emulators/<kind>/`, only with
KEYHOUSE_EMULATORS) at the address `make run` serves on (`KEYHOUSE_DEMO_SITE_URL`, else the
origin of `KEYHOUSE_PORTAL_URL`). Everything that talks to them runs after the demo data is
committed; when nothing answers there yet (seed_demo runs before `runserver`), a short-lived
local server answers for that time. Their state is in memory, per process: the running server's
emulators start again from their fixtures (the pushed grant shows in the admin, not in the
running SmartphoneKey emulator's `_control`).
"""

import datetime as dt

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from apps.access import services as access_services
from apps.access.models import AccessGrant
from apps.accounts.models import User
from apps.core.actors import SYSTEM
from apps.core.models import ExternalRef
from apps.integrations import services
from apps.integrations.demo_server import demo_site, served
from apps.integrations.models import IntegrationAccount, SmartphoneKeyPush
from apps.locks.models import Lock
from apps.properties.demo import DEMO_PROPERTY_NAME
from apps.properties.models import Property

PARQEX_ACCOUNT = "ParqEx (emulator)"
SMARTPHONEKEY_ACCOUNT = "SmartphoneKey (emulator)"
# The emulators' fixed demo credentials (not anyone's secret; see their state.py).
PARQEX_TOKEN = "parqex-emulator-token"
SMARTPHONEKEY_API_KEY = "spk-emulator-api-key"
# Who and what the pushed grant is: a resident's key to the gym door, for 90 days.
SPK_USER = ("olivia.martinez@example.com", "spk-user-olivia")
SPK_LOCK = ("Gym door", "spk-lock-gym")


def seed_demo(stdout) -> None:
    if not settings.KEYHOUSE_EMULATORS:
        stdout.write("ParqEx and SmartphoneKey demo accounts skipped: KEYHOUSE_EMULATORS is off.")
        return
    prop = Property.objects.alive().filter(display_name=DEMO_PROPERTY_NAME).first()
    if prop is None:
        return
    site = demo_site()
    transaction.on_commit(lambda: demo_vendors_run(prop_id=prop.pk, site=site, stdout=stdout))


def _account(prop, kind: str, name: str, base_url: str, credentials: dict) -> IntegrationAccount:
    account = IntegrationAccount.objects.filter(property=prop, kind=kind, display_name=name).first()
    if account is None:
        account = services.integration_account_create(
            prop=prop, kind=kind, display_name=name, base_url=base_url, credentials=credentials, actor=SYSTEM
        )
    return account


def _link(obj, model, account, external_id: str) -> None:
    ExternalRef.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(model),
        object_id=obj.pk,
        source="smartphonekey",
        account_id=account.pk,
        defaults={"external_id": external_id, "sync_direction": "fromInternalToExternal"},
    )


def demo_vendors_run(*, prop_id, site: str, stdout) -> None:
    """Create the accounts (once), poll ParqEx, push the demo grant (once); print what happened."""
    prop = Property.objects.get(pk=prop_id)
    with served(site):
        parqex = _account(prop, "parqex", PARQEX_ACCOUNT, f"{site}/_emulators/parqex", {"token": PARQEX_TOKEN})
        run = services.integration_account_poll(account_id=parqex.pk, trigger="seed_demo")
        if run is not None:
            counts = f"{run.fetched} doors fetched, {run.created} created, {run.updated} updated"
            stdout.write(f"ParqEx demo account polled: {run.status} ({counts}){': ' + run.error if run.error else ''}.")

        spk = _account(
            prop,
            "smartphonekey",
            SMARTPHONEKEY_ACCOUNT,
            f"{site}/_emulators/smartphonekey",
            {"api_key": SMARTPHONEKEY_API_KEY},
        )
        user = User.objects.alive().filter(email=SPK_USER[0]).first()
        lock = Lock.objects.alive().filter(property=prop, display_name=SPK_LOCK[0]).first()
        if user is None or lock is None:
            return
        _link(user, User, spk, SPK_USER[1])
        _link(lock, Lock, spk, SPK_LOCK[1])
        if not AccessGrant.objects.filter(user=user, lock=lock).exists():
            # the grant's event marks its push pending and asks for the account's run after commit
            access_services.grant_create(
                prop=prop,
                user=user,
                lock=lock,
                access_level="USER",
                valid_until=timezone.now() + dt.timedelta(days=90),
                actor=SYSTEM,
            )
        services.integration_account_poll(account_id=spk.pk, trigger="seed_demo")  # sends what is still pending
    push = SmartphoneKeyPush.objects.filter(account=spk, grant__user=user, grant__lock=lock).first()
    state = "not queued" if push is None else push.state
    version = f" (remote version {int(push.remote_version)})" if push is not None and push.remote_version else ""
    stdout.write(f"SmartphoneKey demo grant ({user.display_name}, {lock.display_name}): {state}{version}.")
