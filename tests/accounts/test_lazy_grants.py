"""A person's principal reads their stored grants only when a question gets past `me`
(apps.core.principal.LazyGrants; docs/PERFORMANCE.md, "Lock and device protocol")."""

import uuid

import pytest

from apps.accounts import services
from apps.accounts.selectors import principal_for_user
from apps.core.actors import SYSTEM
from apps.core.operations import ME
from apps.core.principal import Grant, LazyGrants
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


def test_a_question_about_oneself_reads_no_grants(django_assert_num_queries):
    person = d.user_create()
    with django_assert_num_queries(0):
        principal = principal_for_user(person)
        assert principal.allows(frozenset({ME, "manage-access"}), user_id=person.pk)
        assert principal.has_any(frozenset({ME}))


def test_a_question_past_me_reads_the_grants_once(django_assert_num_queries):
    person, other = d.user_create(), d.user_create()
    prop = d.property_create()
    services.user_update(user=person, grants=[Grant("manage-access", property_id=prop.pk)], actor=SYSTEM)
    principal = principal_for_user(person)
    with django_assert_num_queries(1):
        assert principal.allows(frozenset({ME, "manage-access"}), property_id=prop.pk, user_id=other.pk)
        assert not principal.allows(frozenset({"owner"}))
        assert tuple(principal.grants) == (Grant(ME, user_id=person.pk), Grant("manage-access", prop.pk))


def test_lazy_grants_behave_as_the_tuple_they_stand_for():
    me, extra = Grant(ME, user_id=uuid.uuid4()), Grant("owner")
    loads = []
    grants = LazyGrants((me,), lambda: loads.append(1) or [extra])
    assert next(iter(grants)) == me and loads == []
    assert grants == (me, extra) and len(grants) == 2 and grants[1] == extra and hash(grants) == hash((me, extra))
    assert loads == [1]
