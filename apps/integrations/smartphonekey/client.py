"""SmartphoneKey client (seed 003): a token, then `POST /users/{id}/AddAccessibleLock`.

Both calls carry `X-API-Key` (a secret header); AddAccessibleLock also `Authorization: Bearer
<JWT>`. The seed documents no token call; we use `POST /auth/token` (X-API-Key → `{token}`),
the same call Keyhouse's compatibility endpoint and the emulator serve.
"""

from urllib.parse import quote

from apps.integrations.http import HttpClient, Malformed

TOKEN_PATH = "/auth/token"


class SmartphoneKeyClient:
    def __init__(self, http: HttpClient, *, api_key: str):
        self.http = http
        self._api_key = api_key
        self._authorized: HttpClient | None = None

    def close(self) -> None:
        if self._authorized is not None:
            self._authorized.close()

    def _with_token(self) -> HttpClient:
        if self._authorized is None:
            body = self.http.request("POST", TOKEN_PATH, json={}, idempotent=True).json()
            token = body.get("token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise Malformed(f"POST {TOKEN_PATH}: the answer has no token")
            self._authorized = HttpClient(
                self.http.base_url,
                secret_headers={"X-API-Key": self._api_key, "Authorization": f"Bearer {token}"},
                headers={"Content-Type": "application/json"},
                connect_timeout=self.http.timeout[0],
                read_timeout=self.http.timeout[1],
                retries=self.http.retries,
            )
        return self._authorized

    def add_accessible_lock(self, user_id: str, body: dict) -> dict:
        """The seed's answer (`success`, `aggregateId`, `version`, `event`, `lockId`, `accessLevel`).

        Sent as idempotent: an identical repeat changes nothing remotely (same version)."""
        path = f"/users/{quote(user_id, safe='')}/AddAccessibleLock"
        answer = self._with_token().request("POST", path, json=body, idempotent=True).json()
        version = answer.get("version") if isinstance(answer, dict) else None
        ok = isinstance(answer, dict) and answer.get("success") is True
        if not ok or isinstance(version, bool) or not isinstance(version, int | float):
            raise Malformed("POST /users/…/AddAccessibleLock: not the seed's answer (success, numeric version)")
        return answer
