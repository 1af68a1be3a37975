"""accounts.services.user_external_id_set: one id per source, never another person's."""

import pytest

from apps.accounts import services
from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError
from apps.core.models import ExternalRef
from apps.events.models import Event
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


def test_set_replace_and_refuse_another_persons_id():
    ana, bo = d.user_create(), d.user_create()
    assert services.user_external_id_set(user=ana, source="import:p1", external_id="e1", actor=SYSTEM) is True
    assert services.user_external_id_set(user=ana, source="import:p1", external_id="e1", actor=SYSTEM) is False
    assert services.user_external_id_set(user=ana, source="import:p1", external_id="e2", actor=SYSTEM) is True
    assert list(ExternalRef.for_entity(ana).values_list("source", "external_id")) == [("import:p1", "e2")]
    with pytest.raises(ApplicationError, match="another person's id"):
        services.user_external_id_set(user=bo, source="import:p1", external_id="e2", actor=SYSTEM)
    assert services.user_external_id_set(user=bo, source="import:p2", external_id="e2", actor=SYSTEM) is True
    changed = Event.objects.filter(event_name="user.updated", user_id=ana.pk).values_list("payload", flat=True)
    assert [p["changed"] for p in changed] == [["externalRefs"], ["externalRefs"]]
