"""The lock-health sweep (command twin of the beat task): a lock linked to an account that is
not ok is stale, even when the run's handler never ran; ok again clears it."""

import pytest
from django.core.management import call_command

from apps.events.models import Event
from apps.integrations.models import IntegrationAccount
from apps.locks.models import LockHealth
from tests.factories.directory import property_create
from tests.factories.integrations import parqex_account
from tests.integrations.test_parqex_poll import _poll

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_sweep_marks_doors_of_a_failing_account_stale_and_clears_them(parqex_url, capsys):
    account = parqex_account(property_create(), base_url=parqex_url)
    other = parqex_account(property_create(), base_url=parqex_url, display_name="Second garage")
    _poll(account)
    _poll(other)
    assert LockHealth.objects.count() == 4 and not LockHealth.objects.filter(stale=True).exists()

    IntegrationAccount.objects.filter(pk=account.pk).update(status="needs_reauth")
    call_command("lock_health_sweep")
    assert "2 health flag(s) turned" in capsys.readouterr().out
    assert set(LockHealth.objects.filter(stale=True).values_list("lock__parqex_door__account", flat=True)) == {
        account.pk
    }
    assert Event.objects.filter(event_name="lock.stale").count() == 2
    call_command("lock_health_sweep")
    assert "0 health flag(s) turned" in capsys.readouterr().out  # nothing turns twice

    IntegrationAccount.objects.filter(pk=account.pk).update(status="ok")
    call_command("lock_health_sweep")
    assert not LockHealth.objects.filter(stale=True).exists()
    assert Event.objects.filter(event_name="lock.stale_cleared").count() == 2
