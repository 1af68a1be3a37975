import pytest
from django.db import IntegrityError, transaction

from apps.accounts.models import ApiKey
from apps.core.api.serializers import ExternalRefSerializer
from apps.core.ids import uuid7
from apps.core.models import ExternalRef
from tests.factories.accounts import UserFactory, api_key_with

pytestmark = pytest.mark.django_db


def _ref(entity, source="lockt", external_id="U-1", **extra):
    return ExternalRef.objects.create(
        entity=entity, source=source, external_id=external_id, sync_direction="fromExternalToInternal", **extra
    )


def test_any_entity_can_carry_external_refs_serialized_as_the_spec_says():
    user = UserFactory()
    api_key, _ = api_key_with("owner")
    _ref(user)
    _ref(api_key, external_id="K-9")
    data = ExternalRefSerializer(ExternalRef.for_entity(user), many=True).data
    assert data == [
        {
            "id": "U-1",
            "source": "lockt",
            "syncDirection": "fromExternalToInternal",
            "syncStatus": "pending",
            "syncSchedule": "",
            "lastSyncDate": None,
        }
    ]
    assert ExternalRef.for_entity(api_key).get().entity == ApiKey.objects.get(pk=api_key.pk)


def test_one_ref_per_source_per_entity_and_one_entity_per_external_id():
    first, second = UserFactory(), UserFactory()
    _ref(first)
    with pytest.raises(IntegrityError), transaction.atomic():
        _ref(first, external_id="U-2")  # same entity, same source
    with pytest.raises(IntegrityError), transaction.atomic():
        _ref(second)  # same external id claimed by another user
    _ref(first, source="parqex")  # another system is fine


def test_the_same_remote_id_links_in_two_accounts_but_once_per_account():
    account_a, account_b = uuid7(), uuid7()
    first, second = UserFactory(), UserFactory()
    _ref(first, account_id=account_a)
    _ref(second, account_id=account_b)  # U-1 of another Lockt cloud is another person
    with pytest.raises(IntegrityError), transaction.atomic():
        _ref(second, account_id=account_a)  # U-1 of account A is already `first`
    with pytest.raises(IntegrityError), transaction.atomic():
        _ref(first, external_id="U-2", account_id=account_a)  # `first` is already linked in A
    _ref(first, external_id="U-7", account_id=account_b)  # ...but may be linked in B too
    assert ExternalRef.objects.filter(account_id=account_a).count() == 1
    assert ExternalRef.objects.filter(account_id=account_b).count() == 2
