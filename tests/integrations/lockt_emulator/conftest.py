import json

import pytest

from apps.integrations.lockt.emulator.seed import EXAMPLE_APIKEY, EXAMPLE_APIUSER

BASE = "/_emulators/lockt/"


class Lockt:
    """Django test client speaking to the emulator with one apiuser/apikey pair."""

    def __init__(self, client, apiuser=EXAMPLE_APIUSER, apikey=EXAMPLE_APIKEY):
        self.client = client
        self.headers = {"HTTP_APIUSER": apiuser, "HTTP_APIKEY": apikey}

    def call(self, method, path, body=None, *, raw=None, content_type="application/json", headers=None):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.generic(
            method,
            BASE + "api/v1/" + path,
            data,
            content_type=content_type,
            **(self.headers if headers is None else headers),
        )

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.call("DELETE", path, body, **kw)

    def control(self, method, name, body=None):
        data = "" if body is None else json.dumps(body)
        return self.client.generic(
            method, BASE + "_control/" + name, data, content_type="application/json", **self.headers
        )

    def data(self, path):
        response = self.get(path)
        assert response.status_code == 200, response.content
        return response.json()["data"]


@pytest.fixture
def lockt(client, db):
    return Lockt(client)


@pytest.fixture
def clock(lockt):
    """Freeze the instance's clock at 2022-09-07 12:00:00 UTC (the delegate example's day)."""
    lockt.control("POST", "clock", {"now": "2022-09-07 12:00:00"})
    return lockt


def new_user(**overrides):
    user = {
        "id": -1,
        "id_num": "N-1",
        "first_name": "Toby",
        "last_name": "Peters",
        "email": "toby.peters@web.place",
        "phone": "33344455555",
        "pin": "1234",
        "card_num": "8770",
        "access_effective": "",
        "access_expires": "",
        "enabled": "true",
        "accesslevels": [{"id": 208}],
    }
    user.update(overrides)
    return {key: value for key, value in user.items() if value is not ...}


def existing_user(**overrides):
    """A full POST /user update of seeded user 1693."""
    base = {
        "id": 1693,
        "id_num": "329359",
        "first_name": "Susan",
        "last_name": "Brown",
        "email": "susan.brown@web.place",
        "card_num": "8769",
        "accesslevels": [{"id": 364}],
    }
    base.update(overrides)
    return new_user(**base)
