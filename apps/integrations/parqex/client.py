"""ParqEx cloud client (seed 004): `GET /oauth/v1/endpoints/sync` with its five headers.

Built on apps.integrations.http.HttpClient (timeouts, named errors, logs without headers). The
access token travels only in the `Authorization` header (a secret header: never logged).
`requests` decodes the gzip body the seed asks for (`Accept-Encoding: gzip`).
"""

from apps.integrations.http import HttpClient, Malformed

SYNC_PATH = "/oauth/v1/endpoints/sync"
# Spec: seed 004 "Headers": Accept, Accept-Encoding, Accept-Charset, Content-Type (+ Authorization).
HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip",
    "Accept-Charset": "utf-8",
    "Content-Type": "application/json",
}


def http_for_token(base_url: str, token: str, *, connect_timeout=5, read_timeout=30, retries=2) -> HttpClient:
    """An HttpClient sending the five headers, the token as `Authorization: Bearer <token>`."""
    return HttpClient(
        base_url,
        secret_headers={"Authorization": f"Bearer {token}"},
        headers=HEADERS,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries=retries,
    )


class ParqExClient:
    def __init__(self, http: HttpClient):
        self.http = http

    def sync(self) -> list[dict]:
        """The controllers (`devices`) the token's user owns or may use, each with its `doors`.

        AuthFailed on 401 ("Invalid Access Token"); Malformed unless the body is
        `{devices: [{..., doors: [{...}]}]}` (each record an object; fields are checked by the mapping).
        """
        body = self.http.get_json(SYNC_PATH)
        devices = body.get("devices") if isinstance(body, dict) else None
        if not isinstance(devices, list):
            raise Malformed(f"GET {SYNC_PATH}: the answer has no `devices` list")
        for index, device in enumerate(devices):
            if not isinstance(device, dict) or not isinstance(device.get("doors", []), list):
                raise Malformed(f"GET {SYNC_PATH}: devices[{index}] is not a controller with a `doors` list")
            if not all(isinstance(door, dict) for door in device.get("doors", [])):
                raise Malformed(f"GET {SYNC_PATH}: devices[{index}].doors holds a non-object")
        return devices
