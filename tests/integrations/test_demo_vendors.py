"""seed_demo's ParqEx and SmartphoneKey part: both accounts on the emulators, ParqEx doors with
health, one SmartphoneKey grant pushed; running it again adds nothing."""

from io import StringIO

import pytest
import requests

from apps.integrations import demo_vendors
from apps.integrations.models import IntegrationAccount, ParqExDoor, SmartphoneKeyPush
from apps.locks.models import LockHealth
from apps.properties import demo as property_demo
from apps.properties.models import Property

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_wires_both_emulators_polls_parqex_and_pushes_one_grant(parqex_url, smartphonekey_url, live_server):
    property_demo.seed_demo(StringIO())
    prop = Property.objects.get(display_name=property_demo.DEMO_PROPERTY_NAME)
    out = StringIO()
    demo_vendors.demo_vendors_run(prop_id=prop.pk, site=live_server.url, stdout=out)
    text = out.getvalue()
    assert "ParqEx demo account polled: succeeded (2 doors fetched, 2 created" in text
    assert "SmartphoneKey demo grant (Olivia Martinez, Gym door): pushed (remote version 1)." in text

    accounts = {a.kind: a for a in IntegrationAccount.objects.filter(property=prop)}
    assert set(accounts) == {"parqex", "smartphonekey"} and {a.status for a in accounts.values()} == {"ok"}
    doors = ParqExDoor.objects.filter(account=accounts["parqex"]).select_related("lock")
    assert sorted(d.lock.display_name for d in doors) == ["Kitty", "Last Door!"]
    assert LockHealth.objects.get(lock__display_name="Last Door!", source="parqex").battery_level == 98
    (push,) = SmartphoneKeyPush.objects.filter(account=accounts["smartphonekey"])
    assert push.state == "pushed"
    stored = requests.get(f"{smartphonekey_url}/_control/users/spk-user-olivia/locks", timeout=5).json()["locks"]
    assert [lock["lockId"] for lock in stored] == ["spk-lock-gym"]

    demo_vendors.demo_vendors_run(prop_id=prop.pk, site=live_server.url, stdout=StringIO())
    assert IntegrationAccount.objects.filter(property=prop).count() == 2
    assert SmartphoneKeyPush.objects.count() == 1 and ParqExDoor.objects.count() == 2
