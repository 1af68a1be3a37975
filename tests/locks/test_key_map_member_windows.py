"""A membership window narrows a member's key-map entries (pure protocol)."""

from apps.locks import protocol

GROUP_ID, ANN, BEN = "group-1", "user-ann", "user-ben"
T0, EXPIRY = 1_764_000_000, 1_764_900_000


def _content(lines, member_windows=None) -> dict:
    return protocol.key_map_content(
        lock_id="lock-1",
        property_id="property-1",
        time_zone="UTC",
        lines=lines,
        members={GROUP_ID: [ANN, BEN]},
        keys={
            ANN: [{"kid": "kid-ann", "publicKey": "pk-ann", "keyId": "k1", "userDeviceId": "d1"}],
            BEN: [{"kid": "kid-ben", "publicKey": "pk-ben", "keyId": "k2", "userDeviceId": "d2"}],
        },
        schedules={},
        property_keys=[],
        property_seal_key=None,
        member_windows=member_windows,
    )


def _validity(content) -> dict:
    return {e["userId"]: (e["validFrom"], e["validUntil"]) for e in content["entries"]}


def test_only_the_windowed_member_gets_an_end_and_the_other_keeps_the_lines_validity():
    lines = [protocol.Line("group", GROUP_ID, "", None, None)]
    content = _content(lines, {(GROUP_ID, ANN): (None, EXPIRY)})
    assert _validity(content) == {ANN: (None, EXPIRY), BEN: (None, None)}


def test_the_later_start_and_earlier_end_win_and_no_overlap_drops_the_entry():
    lines = [protocol.Line("group", GROUP_ID, "", T0, EXPIRY + 100)]
    content = _content(lines, {(GROUP_ID, ANN): (T0 - 50, EXPIRY), (GROUP_ID, BEN): (EXPIRY + 100, None)})
    assert _validity(content) == {ANN: (T0, EXPIRY)}


def test_without_windows_the_content_is_unchanged():
    lines = [protocol.Line("group", GROUP_ID, "", None, None)]
    assert _content(lines) == _content(lines, {})
