"""Hypothesis: the dry-run diff is exactly what apply then does. For generated files of
users (new and known people, changed and unchanged fields, groups, sync removals), the state
after apply equals the state before with the plan's operations carried out by hand."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.access.models import Membership, UserGroup
from apps.accounts.models import User
from apps.core.actors import SYSTEM
from apps.imports import services, writers
from apps.imports.models import ImportRunStatus
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

EMAILS = [f"p{i}@example.com" for i in range(6)]
NAMES = ["Ana", "Bo", "=Cy", "Dee Dee", "-Eve", "Fay"]
GROUPS = ["Gym", "Pool", "Roof"]

person = st.fixed_dictionaries(
    {
        "displayName": st.sampled_from(NAMES),
        "lastName": st.sampled_from(["", "Lee", "+Kim"]),
        "phoneNumber": st.sampled_from(["", "+14155550123", "+447700900123"]),
        "groups": st.lists(st.sampled_from(GROUPS), unique=True, max_size=2),
    }
)
existing = st.dictionaries(st.sampled_from(EMAILS), person, max_size=4)
file_rows = st.dictionaries(st.sampled_from(EMAILS), person, min_size=1, max_size=6)


def state(prop) -> dict:
    groups = UserGroup.objects.filter(property=prop)
    people = {}
    for user in User.objects.filter(email__in=EMAILS):
        names = Membership.objects.filter(user=user, user_group__in=groups).values_list(
            "user_group__display_name", flat=True
        )
        people[user.email] = {
            "displayName": user.display_name,
            "lastName": user.last_name,
            "phoneNumber": user.phone_number,
            "groups": frozenset(names),
        }
    return people


def predicted(before: dict, plan: list, group_names: dict) -> dict:
    after = {email: dict(fields) for email, fields in before.items()}
    for op in plan:
        if op["op"] == "create":
            values = op["values"]
            after[values["email"]] = {
                "displayName": values["displayName"],
                "lastName": values.get("lastName", ""),
                "phoneNumber": values.get("phoneNumber", ""),
                "groups": frozenset(group_names[g] for g in op["groupIds"]),
            }
        elif op["op"] == "update":
            email = op["key"]
            for column, (_, new) in op["changes"].items():
                if column == "groups":
                    after[email]["groups"] = after[email]["groups"] | set(new)
                elif column == "email":
                    after[new] = after.pop(email)
                    email = new
                else:
                    after[email][column] = new
        elif op["op"] == "remove":
            after[op["key"]]["groups"] = after[op["key"]]["groups"] - {group_names[g] for g in op["groupIds"]}
    return after


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=existing, rows=file_rows, mode=st.sampled_from(["merge", "sync"]))
def test_the_dry_run_diff_is_what_apply_does(django_capture_on_commit_callbacks, before, rows, mode):
    with transaction.atomic():
        prop = d.property_create()
        groups = {name: d.group_create(prop, display_name=name) for name in GROUPS}
        for email, fields in before.items():
            user = d.user_create(
                email=email,
                display_name=fields["displayName"],
                last_name=fields["lastName"],
                phone_number=fields["phoneNumber"],
            )
            for name in fields["groups"] or ["Gym"]:
                d.member_add(groups[name], user)
        header = ["email", "displayName", "lastName", "phoneNumber", "groups"]
        lines = [[e, f["displayName"], f["lastName"], f["phoneNumber"], "|".join(f["groups"])] for e, f in rows.items()]
        data = b"".join(writers.csv_stream(header, lines))
        with django_capture_on_commit_callbacks(execute=True):
            run = services.import_run_create(
                prop=prop, kind="users", mode=mode, file_name="p.csv", content=data, actor=SYSTEM
            )
        run.refresh_from_db()
        assert run.status == ImportRunStatus.VALIDATED and run.errors == []
        start = state(prop)
        group_names = {str(g.pk): g.display_name for g in UserGroup.objects.filter(property=prop)}
        expected = predicted(start, run.plan, group_names)
        with django_capture_on_commit_callbacks(execute=True):
            services.import_run_apply_request(run=run, actor=SYSTEM)
        run.refresh_from_db()
        assert run.status == ImportRunStatus.APPLIED, run.failure
        assert state(prop) == expected
        # and the same file again plans no change at all
        with django_capture_on_commit_callbacks(execute=True):
            again = services.import_run_create(
                prop=prop, kind="users", mode=mode, file_name="p.csv", content=data, actor=SYSTEM
            )
        again.refresh_from_db()
        assert {op["op"] for op in again.plan} - {"remove"} == {"unchanged"}
        transaction.set_rollback(True)
