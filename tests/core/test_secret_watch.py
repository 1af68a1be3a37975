"""The session-wide watch (tests/secret_watch.py) sees a secret written to a log."""

import logging

import pytest

from apps.accounts.services import api_key_create
from apps.keys import crypto
from tests.secret_watch import WATCH

logger = logging.getLogger("apps.core.example")


@pytest.mark.django_db
def test_an_api_key_secret_in_a_log_line_is_caught():
    _, secret = api_key_create(display_name="Watched", grants=[], actor="test")
    mark = WATCH.mark()
    logger.info("created %s", secret)
    logger.info("created a key")  # the same event without the secret is fine
    try:
        assert WATCH.leaks(since=mark) == [("apps.core.example", "khk secret")]
    finally:
        WATCH.forget(since=mark)


def test_a_private_key_in_a_debug_traceback_is_caught():
    pair = crypto.generate(crypto.ED25519)
    mark = WATCH.mark()
    try:
        raise ValueError(f"bad key {crypto.b64url_encode(bytes(pair.private))}")
    except ValueError:
        logger.debug("could not use the key", exc_info=True)
    try:
        assert WATCH.leaks(since=mark) == [("apps.core.example", "Ed25519 private key")]
    finally:
        WATCH.forget(since=mark)
