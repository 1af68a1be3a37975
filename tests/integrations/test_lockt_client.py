"""The Lockt client over real loopback HTTP: headers, selectors, envelope quirks, chunked
writes with their options, failure envelopes, transient messages, the insert-after-timeout rule."""

import json

import pytest

from apps.integrations.http import HttpClient, Malformed, Transient
from apps.integrations.lockt.client import LocktBatchFailed, LocktClient, LocktRequestError
from tests.factories.integrations import APIKEY, APIUSER
from tests.integrations.loopback import Answer

BASE = "/api/v1"
SUMMARY = {"data": {"submitted": 1, "inserted": 1, "updated": 0, "errors": 0}}


def _client(remote, **kw) -> LocktClient:
    http = HttpClient(
        f"{remote.url}{BASE}",
        secret_headers={"apiuser": APIUSER, "apikey": APIKEY},
        headers={"Content-Type": "application/json"},
        retries=0,
    )
    return LocktClient(http, **kw)


def _bodies(remote) -> list[dict]:
    return [json.loads(r.body) for r in remote.received if r.body]


def test_reads_send_the_headers_and_the_selectors_lockt_routes_on(remote):
    remote.answer(f"{BASE}/user", Answer(200, {"data": [{"id": 1693, "id_num": "329359"}]}))
    client = _client(remote)
    assert client.user(1693)["id_num"] == "329359"
    client.users_missing_credentials()
    client.user_by_id_num("qjwi 880")
    queries = [r.query for r in remote.received]
    assert queries == ["id=1693", "missingcreds", "id_num=qjwi+880"]  # bare flag; values encoded
    for received in remote.received:
        assert (received.headers["apiuser"], received.headers["apikey"]) == (APIUSER, APIKEY)
        assert received.headers["Content-Type"] == "application/json"  # on GETs too (§2.4)
    with pytest.raises(ValueError):
        client.user_by_id_num("")  # blank would list every user (L340)


def test_a_lookup_of_nothing_is_none_and_a_get_error_is_named(remote):
    remote.answer(f"{BASE}/fob", Answer(200, {"data": []}))
    assert _client(remote).fob(443) is None
    remote.answer(f"{BASE}/door", Answer(400, {"data": [{"error": "user_id is valid, numeric and not blank"}]}))
    with pytest.raises(LocktRequestError) as raised:
        _client(remote).doors_of_user(5)
    assert raised.value.messages == ["user_id is valid, numeric and not blank"]
    remote.answer(f"{BASE}/schedule", Answer(200, {"data": {"error": "no schedules"}}))  # the pseudo-JSON shape
    with pytest.raises(LocktRequestError):
        _client(remote).schedules()


@pytest.mark.parametrize("body", [{"result": "x"}, {"data": "x"}, {"data": [1, 2]}, []])
def test_answers_not_shaped_like_the_envelope_are_malformed(remote, body):
    remote.answer(f"{BASE}/door", Answer(200, body))
    with pytest.raises(Malformed):
        _client(remote).doors()


def test_events_come_back_ascending_above_the_mark_without_duplicates(remote):
    events = [{"id": 865}, {"id": 864}, {"id": 865}, {"id": "863"}, {"id": 17249}]
    remote.answer(f"{BASE}/events", Answer(200, {"data": events}))
    assert [e["id"] for e in _client(remote).events(after=863)] == [864, 865, 17249]
    assert remote.received[0].query == "id=863"


def test_writes_are_chunked_at_the_batch_limit_with_every_option_as_text(remote):
    remote.answer(f"{BASE}/user", Answer(200, {"data": {"submitted": 2, "inserted": 1, "updated": 1, "errors": 0}}))
    users = [{"id": -1, "id_num": str(n)} for n in range(5)]
    summary = _client(remote, batch_limit=2).users_upsert(users)
    bodies = _bodies(remote)
    assert [len(b["users"]) for b in bodies] == [2, 2, 1]
    assert bodies[0]["options"] == {
        "validate_fails_batch": "true",
        "update_existing": "true",
        "replace_privileges": "true",
    }
    assert (summary.submitted, summary.inserted, summary.updated, summary.applied) == (6, 3, 3, 6)


def test_one_object_calls_and_deletes_with_bodies(remote):
    remote.answer(f"{BASE}/user", Answer(200, {"data": {"submitted": 1, "deleted": 1, "errors": 0}}))
    remote.answer(f"{BASE}/delegate", Answer(200, {"data": {"submitted": 1, "processed": 1, "errors": 0}}))
    client = _client(remote)
    client.user_update({"id": 1693, "enabled": False}, replace_privileges=False)
    assert client.users_delete([1693, "1694"]).deleted == 1
    assert client.delegate_create({"from_user_id": 613950, "to_user_id": 1693, "door_id": 187}).processed == 1
    client.delegates_purge()
    methods = [(r.method, r.path, r.query) for r in remote.received]
    assert methods == [
        ("PUT", f"{BASE}/user", ""),
        ("DELETE", f"{BASE}/user", ""),
        ("POST", f"{BASE}/delegate", ""),
        ("POST", f"{BASE}/delegate", "purge"),
    ]
    put, delete, delegate = _bodies(remote)
    assert put["options"] == {"validate_fails_batch": "true", "replace_privileges": "false"}
    assert delete["users"] == [{"id": 1693}, {"id": 1694}]
    assert "options" not in delegate  # POST /delegate takes none (L852)


def test_a_failure_envelope_names_each_refused_object(remote):
    failure = {
        "result": ["Validation errors found. Batch has failed. Details provided."],
        "errors": [
            {
                "error": [
                    "Non-Numeric card_num found: A8914",
                    "Invalid email address found: rgreswell0@@@@gravatar.com",
                ],
                "input_data": {"id": -1, "id_num": "qjwi-880329359", "card_num": "A8914"},
            }
        ],
    }
    remote.answer(f"{BASE}/user", Answer(400, failure))
    with pytest.raises(LocktBatchFailed) as raised:
        _client(remote).users_upsert([{"id": -1}])
    (error,) = raised.value.errors
    assert error.messages[0] == "Non-Numeric card_num found: A8914"
    assert error.input_data["id_num"] == "qjwi-880329359"
    assert "A8914" not in str(raised.value) and "A8914" not in repr(error)


def test_partial_success_counts_and_details_refused_objects(remote):
    partial = {
        "data": {"submitted": 2, "inserted": 1, "updated": 0, "errors": 1},
        "errors": [{"error": ["Door Name Already Exists: Door 1"], "input_data": {"name": "Door 1"}}],
    }
    remote.answer(f"{BASE}/door", Answer(200, partial))
    summary = _client(remote).doors_create([{"name": "Door 1"}, {"name": "Door 2"}], validate_fails_batch=False)
    assert summary.errors == 1 and summary.object_errors[0].messages == ("Door Name Already Exists: Door 1",)
    assert _bodies(remote)[0]["options"] == {"validate_fails_batch": "false"}


@pytest.mark.parametrize(
    "message",
    [
        "Unable to enumerate dependant record. Batch has been terminated and exception flagged.",
        "The destination host is unreachable.",
    ],
)
def test_communication_messages_are_transient(remote, message):
    remote.answer(f"{BASE}/door", Answer(400, {"result": [message], "errors": []}))
    with pytest.raises(Transient, match="POST door"):
        _client(remote).doors_create([{"name": "Door 9"}])


def test_a_timed_out_insert_is_looked_up_before_any_resend(remote):
    found = {"id": 7001, "id_num": "kh-1", "first_name": "Ada"}
    remote.answer(f"{BASE}/user", Answer(200, SUMMARY, delay=1.0), Answer(200, {"data": [found]}))
    http = HttpClient(f"{remote.url}{BASE}", read_timeout=0.3, retries=0)
    assert LocktClient(http).user_insert_or_find({"id_num": "kh-1", "first_name": "Ada"}) == found
    assert [r.method for r in remote.received] == ["POST", "GET"]  # no second POST
