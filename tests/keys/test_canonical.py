"""canonical.py: the signed envelope, and every way a signature must fail to verify."""

import copy
import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.keys import canonical, crypto
from apps.keys.canonical import CONTEXT_LOCK_COMMAND, CONTEXT_LOCK_KEY_MAP, CanonicalError, MalformedMessage
from apps.keys.crypto import ED25519, InvalidSignature

PAYLOAD = {"lockId": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "keyMapVersion": 3, "entries": [{"a": 1}]}


@pytest.fixture(scope="module")
def keys():
    return crypto.generate(ED25519), crypto.generate(ED25519)


def test_sign_and_verify_message(keys):
    prop, _ = keys
    message = canonical.sign_message(PAYLOAD, CONTEXT_LOCK_KEY_MAP, [prop.private])
    assert set(message["signatures"]) == {prop.kid}
    assert canonical.verify_message(message, CONTEXT_LOCK_KEY_MAP, [prop.public]) == PAYLOAD


def test_key_order_and_spacing_do_not_matter(keys):
    prop, _ = keys
    message = canonical.sign_message(PAYLOAD, CONTEXT_LOCK_KEY_MAP, [prop.private])
    reordered = {"signatures": message["signatures"], "payload": dict(reversed(list(PAYLOAD.items())))}
    assert canonical.verify_message(reordered, CONTEXT_LOCK_KEY_MAP, [prop.public])


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.update(keyMapVersion=4),
        lambda p: p.update(extra=True),
        lambda p: p["entries"].append({"a": 2}),
        lambda p: p["entries"][0].update(a="1"),  # 1 and "1" are different values
        lambda p: p.pop("lockId"),
    ],
)
def test_tampered_payload_is_refused(keys, tamper):
    prop, _ = keys
    message = canonical.sign_message(copy.deepcopy(PAYLOAD), CONTEXT_LOCK_KEY_MAP, [prop.private])
    tamper(message["payload"])
    with pytest.raises(InvalidSignature):
        canonical.verify_message(message, CONTEXT_LOCK_KEY_MAP, [prop.public])


def test_wrong_key_is_refused(keys):
    prop, other = keys
    message = canonical.sign_message(PAYLOAD, CONTEXT_LOCK_KEY_MAP, [prop.private])
    with pytest.raises(InvalidSignature, match="no signature by a trusted key"):
        canonical.verify_message(message, CONTEXT_LOCK_KEY_MAP, [other.public])


def test_signature_by_another_key_under_the_trusted_kid_is_refused(keys):
    prop, other = keys
    forged = canonical.sign_message(PAYLOAD, CONTEXT_LOCK_KEY_MAP, [other.private])
    forged["signatures"] = {prop.kid: forged["signatures"][other.kid]}  # relabelled
    with pytest.raises(InvalidSignature, match="does not verify"):
        canonical.verify_message(forged, CONTEXT_LOCK_KEY_MAP, [prop.public])


def test_bad_trusted_signature_is_not_outvoted_by_a_good_one(keys):
    prop, other = keys
    message = canonical.sign_message(PAYLOAD, CONTEXT_LOCK_KEY_MAP, [prop.private, other.private])
    sig = crypto.b64url_decode(message["signatures"][other.kid])
    message["signatures"][other.kid] = crypto.b64url_encode(bytes([sig[0] ^ 1]) + sig[1:])
    with pytest.raises(InvalidSignature):
        canonical.verify_message(message, CONTEXT_LOCK_KEY_MAP, [prop.public, other.public])
    # A verifier that trusts only the good key ignores the other signature.
    assert canonical.verify_message(message, CONTEXT_LOCK_KEY_MAP, [prop.public])


def test_wrong_context_is_refused(keys):
    prop, _ = keys
    message = canonical.sign_message(PAYLOAD, CONTEXT_LOCK_COMMAND, [prop.private])
    with pytest.raises(InvalidSignature):
        canonical.verify_message(message, CONTEXT_LOCK_KEY_MAP, [prop.public])


def test_verify_returns_the_kids_that_verified(keys):
    prop, other = keys
    signatures = canonical.sign_payload(PAYLOAD, CONTEXT_LOCK_KEY_MAP, [prop.private, other.private])
    assert canonical.verify_signatures(PAYLOAD, signatures, CONTEXT_LOCK_KEY_MAP, [other.public, prop.public]) == [
        prop.kid,
        other.kid,
    ]


@pytest.mark.parametrize(
    "message",
    [
        None,
        [],
        {"payload": PAYLOAD},
        {"payload": PAYLOAD, "signatures": {}, "extra": 1},
        {"payload": PAYLOAD, "signatures": []},
        {"payload": PAYLOAD, "signatures": {"kid": 1}},
        {"payload": [1], "signatures": {"kid": "AA"}},
        {"payload": {"a": 0.5}, "signatures": {"kid": "AA"}},
    ],
)
def test_malformed_messages_are_refused(keys, message):
    with pytest.raises(MalformedMessage):
        canonical.verify_message(message, CONTEXT_LOCK_KEY_MAP, [keys[0].public])


def test_signature_that_is_not_base64url_is_refused(keys):
    prop, _ = keys
    with pytest.raises(MalformedMessage):
        message = {"payload": PAYLOAD, "signatures": {prop.kid: "+/=="}}
        canonical.verify_message(message, CONTEXT_LOCK_KEY_MAP, [prop.public])


def test_empty_signatures_are_refused(keys):
    with pytest.raises(InvalidSignature):
        canonical.verify_message({"payload": PAYLOAD, "signatures": {}}, CONTEXT_LOCK_KEY_MAP, [keys[0].public])


def test_signing_needs_a_signer_and_a_valid_context(keys):
    with pytest.raises(ValueError):
        canonical.sign_message(PAYLOAD, CONTEXT_LOCK_KEY_MAP, [])
    with pytest.raises(ValueError):
        canonical.sign_message(PAYLOAD, "lock-key-map", [keys[0].private])


@pytest.mark.parametrize(
    "payload",
    [{"a": 1.0}, {"a": 2**53}, {"a": -(2**53)}, {"a": b"bytes"}, {"a": {1: "x"}}, {"a": {"b"}}, [1], "text"],
)
def test_profile_refuses(payload):
    with pytest.raises(CanonicalError):
        canonical.canonical(payload)


def test_profile_accepts_the_integer_limits():
    expected = b'{"max":9007199254740991,"min":-9007199254740991}'
    assert canonical.canonical({"max": 2**53 - 1, "min": -(2**53 - 1)}) == expected


def test_canonical_output_is_utf8_without_escapes_for_non_ascii():
    assert canonical.canonical({"name": "Zoë €", "ctl": "\u001f"}) == '{"ctl":"\\u001f","name":"Zoë €"}'.encode()


def test_lone_surrogates_have_no_canonical_form():
    with pytest.raises(CanonicalError):
        canonical.canonical({"a": "\ud800"})


@pytest.mark.parametrize("text", ['{"a":1,"a":2}', '{"a":1.0}', '{"a":NaN}', '{"a":Infinity}', "{", b"\xff"])
def test_strict_parser_refuses(text):
    with pytest.raises(CanonicalError):
        canonical.loads(text)


def test_strict_parser_bounds_depth_and_number_size():
    """Refused before parsing (not a RecursionError or ValueError); what fits is read as before,
    in any JSON encoding."""
    refused = [
        ("[" * 1000 + "]" * 1000, "nested deeper than 32 levels"),
        ('{"a":' * 33 + "1" + "}" * 33, "nested deeper than 32 levels"),
        ('{"a":' + "1" * 5000 + "}", "more than 20 digits"),
        ('{"a":-' + "1" * 21 + "}", "more than 20 digits"),
    ]
    fits = ['{"a":' * 31 + "[" + "9" * 16 + "]" + "}" * 31, '{"a":"' + "[" * 1000 + "1" * 5000 + '"}']
    for encoding in ("utf-8", "utf-16", "utf-32"):
        for text, problem in refused:
            for raw in (text, text.encode(encoding)):
                with pytest.raises(CanonicalError, match=problem):
                    canonical.loads(raw)
        for text in fits:
            assert canonical.loads(text.encode(encoding)) == canonical.loads(text) == json.loads(text)


def test_contexts_are_distinct_and_well_formed():
    assert len(set(canonical.CONTEXTS)) == len(canonical.CONTEXTS)
    for context in canonical.CONTEXTS:
        crypto.check_context(context)


# --- the standard-library fast path writes RFC 8785's bytes ---------------------------------

_json_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["", '"', "\\", "\b\f\n\r\t", "\x00\x01\x1f\x7f", "é✓", "\U0001f511", "\ue000", "</script>", "\u2028"]
)
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-canonical.MAX_SAFE_INTEGER - 2, canonical.MAX_SAFE_INTEGER + 2)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _json_text,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(_json_text | st.sampled_from(["a", "b", "\ue000", "\U0001f511"]), inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(_json_values)
def test_jcs_writes_exactly_what_rfc8785_writes(value):
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(CanonicalError):
            canonical.jcs(value)
        return
    assert canonical.jcs(value) == expected


def test_jcs_refuses_a_lone_surrogate_and_orders_keys_by_utf16():
    with pytest.raises(CanonicalError):
        canonical.jcs({"a": "\ud800"})
    # U+E000 sorts after U+1F511 in UTF-16 (a surrogate pair starts 0xD83D), before it by code point
    assert canonical.jcs({"\ue000": 1, "\U0001f511": 2}) == rfc8785.dumps({"\ue000": 1, "\U0001f511": 2})
