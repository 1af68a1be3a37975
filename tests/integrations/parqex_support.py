"""Shared fixtures for the ParqEx tests: the emulator mounted on a live server (loopback)."""

import requests

from apps.integrations.parqex.client import ParqExClient, http_for_token
from apps.integrations.parqex.emulator.state import EMULATOR_TOKEN

EMULATOR = "/_emulators/parqex"


def client_for(url: str, token: str = EMULATOR_TOKEN, **kw) -> ParqExClient:
    return ParqExClient(http_for_token(url, token, retries=kw.pop("retries", 0), **kw))


def control(url: str, method: str, path: str, body=None) -> dict:
    response = requests.request(method, f"{url}/_control/{path}", json=body, timeout=5)
    assert response.status_code < 400, response.text
    return response.json()
