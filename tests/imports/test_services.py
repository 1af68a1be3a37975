"""Import runs against the database: the dry-run plan, apply through the domain services,
the stale-diff refusal, the killed worker, and export → import round trips."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.access.models import AccessGrant, Membership, UserGroup
from apps.accounts.models import User
from apps.areas.models import Area
from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError
from apps.events.models import Event
from apps.imports import plans, selectors, services, writers
from apps.imports.models import ImportRun, ImportRunStatus
from tests.factories import directory as d
from tests.factories.access import lock_in, locks_of, process_events

pytestmark = pytest.mark.django_db

USERS = "externalId,email,displayName,firstName,lastName,phoneNumber,unit,groups\r\n"


@pytest.fixture
def prop():
    prop = d.property_create(display_name="Harbour House", time_zone="Europe/London")
    tower = d.area_create(prop, display_name="Tower A", area_type="common")
    floor = d.area_create(prop, display_name="Floor 3", area_type="common", parent=tower)
    d.area_create(prop, display_name="3B", parent=floor)
    d.group_create(prop, display_name="Gym")
    return prop


@pytest.fixture(autouse=True)
def _commits(django_capture_on_commit_callbacks):
    """Run on-commit work (the Celery tasks, eager; the events) as a real commit would."""
    _commits.capture = django_capture_on_commit_callbacks


def run_of(prop, kind: str, text: str | bytes, mode: str = "merge") -> ImportRun:
    content = text.encode() if isinstance(text, str) else text
    with _commits.capture(execute=True):
        run = services.import_run_create(
            prop=prop, kind=kind, mode=mode, file_name=f"{kind}.csv", content=content, actor=SYSTEM
        )
    run.refresh_from_db()
    return run


def applied(run: ImportRun, **kw) -> ImportRun:
    with _commits.capture(execute=True):
        services.import_run_apply_request(run=run, actor="staff:test", **kw)
    run.refresh_from_db()
    return run


def ops(run: ImportRun) -> list[tuple]:
    return [(op["op"], op.get("key")) for op in run.plan]


def snapshot(prop) -> dict:
    return {
        "users": sorted(User.objects.values_list("email", "display_name", "phone_number", "is_active")),
        "areas": sorted(
            Area.objects.filter(property=prop).values_list("display_name", "parent__display_name", "type_state")
        ),
        "groups": sorted(UserGroup.objects.filter(property=prop).values_list("display_name", "type_state")),
        "members": sorted(Membership.objects.values_list("user__email", "user_group__display_name")),
    }


def test_users_validate_plan_and_apply_through_the_services(prop):
    d.user_create(email="bo@example.com", display_name="Bo")
    run = run_of(
        prop,
        "users",
        USERS + "e1,ana@example.com,Ana,Ana,Lee,+44 7700 900123,Tower A / Floor 3 / 3B,Gym\r\n"
        ",bo@example.com,Bo Brown,,,,,\r\n",
    )
    assert run.status == ImportRunStatus.VALIDATED and run.errors == []
    assert run.summary == {"create": 1, "update": 1, "unchanged": 0, "remove": 0, "errors": 0}
    update = run.plan[1]
    assert update["changes"]["displayName"] == ["Bo", "Bo Brown"]
    assert User.objects.filter(email="ana@example.com").exists() is False  # a dry run writes nothing
    events_before = list(Event.objects.values_list("pk", flat=True))

    run = applied(run)
    assert run.status == ImportRunStatus.APPLIED, run.failure
    ana = User.objects.get(email="ana@example.com")
    assert (ana.display_name, ana.phone_number) == ("Ana", "+447700900123")
    assert sorted(ana.user_groups.values_list("display_name", flat=True)) == ["3B members", "Gym"]
    assert User.objects.get(email="bo@example.com").display_name == "Bo Brown"
    names = (
        set(Event.objects.all()[events_before:].values_list("event_name", flat=True))
        if False
        else set(Event.objects.order_by("-id")[:20].values_list("event_name", flat=True))
    )
    assert {"user.created", "user.updated", "group.members_added", "import.applied"} <= names

    again = run_of(prop, "users", USERS + "e1,ANA@example.com,Ana,Ana,Lee,+447700900123,Tower A/Floor 3/3B,Gym\r\n")
    assert ops(again) == [("unchanged", "ana@example.com")]


def test_users_match_by_external_id_first_and_refuse_two_matches(prop):
    run = applied(run_of(prop, "users", USERS + "e1,ana@example.com,Ana,,,,,\r\ne2,bo@example.com,Bo,,,,,\r\n"))
    assert run.status == ImportRunStatus.APPLIED
    renamed = run_of(prop, "users", USERS + "e1,ana.lee@example.com,Ana,,,,,\r\n")
    assert renamed.plan[0]["changes"] == {"email": ["ana@example.com", "ana.lee@example.com"]}
    clash = run_of(prop, "users", USERS + "e1,bo@example.com,Ana,,,,,\r\n")
    assert clash.plan == []
    assert clash.errors[0]["row"] == 2 and "matches another person" in clash.errors[0]["reason"]


def test_unknown_unit_and_group_are_row_errors_and_apply_waits_for_consent(prop):
    run = run_of(
        prop,
        "users",
        USERS
        + ",ana@example.com,Ana,,,,Tower B / 1A,\r\n,bo@example.com,Bo,,,,,Pool|Gym\r\n,cy@example.com,Cy,,,,,\r\n",
    )
    assert [(e["row"], e["column"], e["value"], e["reason"]) for e in run.errors] == [
        (2, "unit", "Tower B / 1A", "no such area in this property"),
        (3, "groups", "Pool", "no such group in this property"),
    ]
    before = snapshot(prop)
    with pytest.raises(ApplicationError, match="2 errors"):
        services.import_run_apply_request(run=run, actor=SYSTEM)
    assert snapshot(prop) == before
    run = applied(run, valid_rows_only=True)
    assert run.status == ImportRunStatus.APPLIED
    assert User.objects.filter(email__in=["ana@example.com", "bo@example.com"]).count() == 0
    assert list(User.objects.get(email="cy@example.com").user_groups.values_list("display_name", flat=True)) == [
        "Residents"
    ]


def test_sync_mode_lists_and_applies_removals(prop):
    applied(run_of(prop, "users", USERS + ",ana@example.com,Ana,,,,,Gym\r\n,bo@example.com,Bo,,,,,Gym\r\n"))
    run = run_of(prop, "users", USERS + ",ana@example.com,Ana,,,,,Gym\r\n", mode="sync")
    assert ops(run) == [("unchanged", "ana@example.com"), ("remove", "bo@example.com")]
    applied(run)
    bo = User.objects.get(email="bo@example.com")
    assert bo.is_active and not bo.user_groups.filter(property=prop).exists()


def test_a_stale_plan_is_refused_naming_what_changed(prop):
    bo = d.user_create(email="bo@example.com", display_name="Bo")
    run = run_of(prop, "users", USERS + ",bo@example.com,Bo Brown,,,,,\r\n")
    from apps.accounts import services as account_services

    account_services.user_update(user=bo, display_name="Robert", actor=SYSTEM)
    run = applied(run)
    assert run.status == ImportRunStatus.FAILED
    assert "changed since validation" in run.failure and "row 2" in run.failure and "Robert" in run.failure
    assert User.objects.get(pk=bo.pk).display_name == "Robert"


class WorkerLost(BaseException):
    """Like SystemExit when a worker is killed: not an Exception, so nothing catches it."""


def test_a_killed_worker_rolls_back_and_the_retry_applies_once(prop, monkeypatch):
    lines = "".join(f",p{i}@example.com,Person {i},,,,,Gym\r\n" for i in range(30))
    run = run_of(prop, "users", USERS + lines)
    monkeypatch.setattr("apps.imports.tasks.import_run_apply.delay", lambda run_id: None)
    run = applied(run)
    monkeypatch.setattr(services, "BATCH", 10)  # 30 rows: three batches
    real_apply, written_when_killed = services._apply, []

    def dies_in_the_second_batch(state, batch):
        if batch[0]["row"] == 12:  # the second batch, rows 12-21
            written_when_killed.append(User.objects.filter(email__startswith="p").count())
            raise WorkerLost  # the process is gone: no except clause of the service runs
        real_apply(state, batch)

    monkeypatch.setattr(services, "_apply", dies_in_the_second_batch)
    with pytest.raises(WorkerLost):
        services.import_run_apply(run_id=run.pk)
    assert written_when_killed == [10]  # the first batch was written (not yet committed) when it died
    monkeypatch.setattr(services, "_apply", real_apply)
    assert User.objects.filter(email__startswith="p").count() == 0  # nothing of the dead attempt stays
    assert ImportRun.objects.get(pk=run.pk).status == ImportRunStatus.APPLYING
    services.import_run_apply(run_id=run.pk)  # the redelivered task
    services.import_run_apply(run_id=run.pk)  # and a duplicate delivery does nothing
    assert User.objects.filter(email__startswith="p").count() == 30
    assert Membership.objects.filter(user_group__display_name="Gym").count() == 30
    assert ImportRun.objects.get(pk=run.pk).status == ImportRunStatus.APPLIED


def test_groups_and_memberships(prop):
    run = applied(run_of(prop, "groups", "name,type\r\nGym,resident\r\nPool,common\r\n"))
    assert ops(run) == [("unchanged", "Gym"), ("create", "Pool")]
    bad = run_of(prop, "groups", "name,type\r\nGym,staff\r\n")
    assert "type is set when it is made" in bad.errors[0]["reason"]
    ana = d.user_create(email="ana@example.com")
    run = run_of(prop, "memberships", "email,group\r\nana@example.com,Pool\r\nzed@example.com,Pool\r\n")
    assert run.errors == [
        {"row": 3, "column": "email", "value": "zed@example.com", "reason": "no such person (import users first)"}
    ]
    assert applied(run, valid_rows_only=True).status == ImportRunStatus.APPLIED
    assert ana.user_groups.filter(display_name="Pool").exists()


def test_areas_parents_cycles_and_missing_parents(prop):
    run = run_of(
        prop,
        "areas",
        "name,parent,type\r\n4A,Tower A / Floor 4,resident\r\nFloor 4,Tower A,common\r\n"
        "9Z,Tower A / Floor 9,resident\r\nTower A,Tower A / Floor 3,common\r\nX,Y,common\r\nY,X,common\r\n",
    )
    reasons = {(e["row"], e["reason"]) for e in run.errors}
    assert (4, "no such area in this property or this file") in reasons
    assert (5, "a cycle: the area would be inside itself") in reasons
    assert (6, "a cycle: the area would be inside itself") in reasons
    assert (7, "a cycle: the area would be inside itself") in reasons
    assert ops(run) == [("create", "Tower A / Floor 4"), ("create", "Tower A / Floor 4 / 4A")]
    run = applied(run, valid_rows_only=True)
    assert run.status == ImportRunStatus.APPLIED, run.failure
    four_a = Area.objects.get(display_name="4A")
    assert four_a.parent.display_name == "Floor 4" and four_a.parent.parent.display_name == "Tower A"


def test_grants_create_update_and_refuse(prop):
    ana = d.user_create(email="ana@example.com")
    d.member_add(d.property_group(prop), ana)
    tower = Area.objects.get(display_name="Tower A")
    door = lock_in(tower, "Front door")
    run = run_of(
        prop,
        "grants",
        "email,lock,area,accessLevel,validFrom,validUntil\r\n"
        "ana@example.com,Front door,,user,2030-01-01 09:00,\r\n"
        "ana@example.com,,Tower A / Floor 3 / 3B,GUEST,,2030-02-01T00:00+00:00\r\n"
        "ana@example.com,Back door,,USER,,\r\n"
        "ana@example.com,,Tower A,GUEST,,\r\n"
        "ana@example.com,,Tower A,USER,,2020-01-01\r\n",
    )
    assert [(e["row"], e["column"], e["reason"]) for e in run.errors] == [
        (4, "lock", "no such lock in this property"),
        (5, "validUntil", "required for GUEST grants: guest access must end"),
        (6, "validUntil", "must be in the future"),
    ]
    assert ops(run) == [
        ("create", "ana@example.com at Front door"),
        ("create", "ana@example.com at Tower A / Floor 3 / 3B"),
    ]
    assert run.plan[0]["values"]["validFrom"] == "2030-01-01T09:00:00+00:00"  # London winter time
    applied(run, valid_rows_only=True)
    grant = AccessGrant.objects.get(lock=door, revoked_at__isnull=True)
    assert grant.access_level == "USER" and grant.granted_by == "staff:test"
    process_events()
    assert str(door.pk) in locks_of(ana, prop)  # derived access followed the service's event

    run = run_of(
        prop, "grants", "email,lock,accessLevel,validFrom\r\nana@example.com,Front door,ADMIN,2030-01-01T09:00Z\r\n"
    )
    assert run.plan[0]["changes"] == {"accessLevel": ["USER", "ADMIN"]}
    applied(run)
    grants = AccessGrant.objects.filter(lock=door).order_by("created_at")
    assert [(g.access_level, g.revoked_at is None) for g in grants] == [("USER", False), ("ADMIN", True)]


@pytest.mark.parametrize("kind", ["users", "groups", "memberships", "areas", "grants"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_untouched_changes_nothing(prop, kind, fmt):
    applied(
        run_of(
            prop,
            "users",
            USERS
            + "e1,ana@example.com,=Ana,,,+447700900123,Tower A / Floor 3 / 3B,Gym\r\n,bo@example.com,-Bo,,,,,\r\n",
        )
    )
    ana = User.objects.get(email="ana@example.com")
    door = lock_in(Area.objects.get(display_name="3B"), "=Door")
    from apps.access import services as access_services

    access_services.grant_create(prop=prop, user=ana, lock=door, access_level="USER", actor=SYSTEM)
    access_services.grant_create(
        prop=prop,
        user=ana,
        area=Area.objects.get(display_name="Floor 3"),
        access_level="GUEST",
        valid_from=datetime(2030, 1, 1, 8, tzinfo=UTC),
        valid_until=datetime(2030, 7, 1, 8, tzinfo=UTC),
        actor=SYSTEM,
    )
    header, rows = selectors.export_rows(prop=prop, kind=kind)
    stream = writers.csv_stream if fmt == "csv" else writers.xlsx_stream
    data = b"".join(stream(header, rows))
    run = run_of(prop, kind, data, mode="sync")
    assert run.errors == []
    assert run.summary["create"] == run.summary["update"] == run.summary["remove"] == 0, run.plan
    assert run.summary["unchanged"] > 0


def test_over_the_limit_is_413_and_keeps_nothing(prop, settings):
    settings.KEYHOUSE_IMPORT_MAX_BYTES = 1024
    with pytest.raises(services.FileTooLarge) as refusal:
        run_of(prop, "users", USERS + "x" * 2000)
    assert refusal.value.status == 413
    assert ImportRun.objects.count() == 0


def test_cancel(prop):
    run = run_of(prop, "groups", "name,type\r\nPool,common\r\n")
    services.import_run_cancel(run=run, actor=SYSTEM)
    with pytest.raises(ApplicationError):
        services.import_run_apply_request(run=run, actor=SYSTEM)
    assert not UserGroup.objects.filter(display_name="Pool").exists()


def test_users_export_reads_people_a_chunk_at_a_time(prop, monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr(selectors, "CHUNK", 3)
    gym = UserGroup.objects.get(display_name="Gym")
    for i in range(7):
        d.member_add(gym, d.user_create(email=f"p{i}@example.com"))
    header, rows = selectors.export_rows(prop=prop, kind="users")
    with django_assert_max_num_queries(20):  # 3 chunks x 3 queries and the setup, not one per person
        emails = [row[1] for row in rows]
    assert emails == [f"p{i}@example.com" for i in range(7)]


def test_sync_removes_nothing_while_the_file_has_errors(prop):
    applied(run_of(prop, "users", USERS + ",ana@example.com,Ana,,,,,Gym\r\n,bo@example.com,Bo,,,,,Gym\r\n"))
    run = run_of(prop, "users", USERS + ",ana@example.com,Ana,,,,,Gym\r\n,bo@example.com,Bo,,,12345,,Gym\r\n", "sync")
    assert ops(run) == [("unchanged", "ana@example.com")]  # Bo's bad row does not make Bo "left out"
    assert run.errors[0] == {"row": 0, "column": "", "value": "", "reason": plans.SYNC_WITH_ERRORS}
    applied(run, valid_rows_only=True)
    assert User.objects.get(email="bo@example.com").user_groups.filter(display_name="Gym").exists()


def test_a_parent_name_used_twice_is_an_error_not_a_guess(prop):
    tower_b = d.area_create(prop, display_name="Tower B", area_type="common")
    d.area_create(prop, display_name="Floor 3", area_type="common", parent=tower_b)
    run = run_of(prop, "areas", "name,parent,type\r\n3C,Tower B / Floor 3,resident\r\n")
    assert run.plan == []
    assert run.errors[0]["reason"] == "the parent's name matches 2 areas in this property"


def test_a_service_refusal_fails_the_run_naming_it_and_keeps_nothing(prop):
    lock_in(Area.objects.get(display_name="3B"), "3B door")
    run = run_of(prop, "areas", "name,parent,type\r\nTower A,,common\r\nLobby,Tower A,common\r\n", mode="sync")
    assert ops(run)[-2:] == [("remove", "Tower A / Floor 3 / 3B"), ("remove", "Tower A / Floor 3")]
    run = applied(run)
    assert run.status == ImportRunStatus.FAILED
    assert run.failure.startswith("Tower A / Floor 3 / 3B: ") and "lock" in run.failure
    assert not Area.objects.filter(display_name="Lobby").exists()  # the create before it rolled back


def test_the_resume_sweep_applies_a_run_its_worker_left_applying(prop, monkeypatch):
    """A run left "applying" (its worker died; the task never comes back before Redis's hour)
    is queued again by the beat sweep once it is a minute old; a fresh one is left alone."""
    lines = "".join(f",r{i}@example.com,Resumed {i},,,,,\r\n" for i in range(5))
    run = run_of(prop, "users", USERS + lines)
    monkeypatch.setattr("apps.imports.tasks.import_run_apply.delay", lambda run_id: None)  # the worker dies
    run = applied(run)
    assert run.status == ImportRunStatus.APPLYING
    assert services.import_runs_resume() == []  # queued just now: perhaps still waiting for a worker
    monkeypatch.undo()
    ImportRun.objects.filter(pk=run.pk).update(last_modified_at=timezone.now() - timedelta(minutes=2))
    with _commits.capture(execute=True):
        assert services.import_runs_resume() == [str(run.pk)]
    assert ImportRun.objects.get(pk=run.pk).status == ImportRunStatus.APPLIED
    assert User.objects.filter(email__startswith="r").count() == 5
    assert services.import_runs_resume() == []
