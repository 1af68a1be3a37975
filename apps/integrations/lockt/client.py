"""Lockt SecureAccess Cloud API client: one method per endpoint (spec lockt-cloud-api.md §4.4).

Built on apps.integrations.http (timeouts, transient retries, Retry-After, named errors, no
secrets in logs); no Django, no models (the sync maps records with lockt/mapping.py). The
§10 client notes, as implemented:

- Headers `apiuser`, `apikey` and `Content-Type: application/json` on every request (§2.3,
  §2.4); canonical singular paths; query values URL-encoded; bare flags (`?missingcreds`).
- Reads return the `data` records as a list of dicts (`about` a dict). A GET error
  (`{"data": [{"error": ...}]}`, or a dict with `error`) is `LocktRequestError`; anything not
  shaped like the envelope is `Malformed` (§10.5).
- Writes are split into chunks of `batch_limit` (default 100, L89); PUT /user and POST
  /delegate take one object per call (L232, L853). Options are always sent, as the strings
  `"true"`/`"false"` every example uses, on the writes that document them (§2.9): nothing is
  left to a default that silently ignores updates (`update_existing`) or replaces privileges.
- Writes of one client run one at a time (L90, rate limiting "being implemented"): a lock per
  client; the poll claim (services) keeps one poll per account across processes.
- A failure envelope is `LocktBatchFailed` with each object's messages and `input_data`; the
  four "communication" messages of §2.7 are `Transient` (retried later, never in-call for a
  write, which may have been partly applied).
- A POST /user insert is not idempotent: `user_insert_or_find` looks the user up by `id_num`
  after a timeout before sending it again (§10.6).
"""

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from apps.integrations.http import HttpClient, IntegrationError, Malformed, RemoteError, Transient

BATCH_LIMIT_DEFAULT = 100  # Spec: §2.8 L89
# Spec: §2.7 L84–L87: the cloud lost its link to the customer's instance; try again later.
TRANSIENT_MESSAGES = (
    "Unable to enumerate dependant record.",
    "Unable to locate template.",
    "The destination host is unreachable.",
    "An Unexpected Error has occurred.",
)


class LocktRequestError(IntegrationError):
    """A GET answered with Lockt's error shape (`{"data": [{"error": "<message>"}]}`)."""

    def __init__(self, message: str, *, messages: list[str]):
        super().__init__(message)
        self.messages = messages


@dataclass(frozen=True)
class ObjectError:
    """One refused object of a write: Lockt's messages and the object as submitted."""

    # Both may hold card numbers and PINs ("Non-Numeric card_num found: A8914"): kept out of reprs.
    messages: tuple[str, ...] = field(repr=False)
    input_data: Any = field(repr=False)


class LocktBatchFailed(IntegrationError):
    """A write's failure envelope (§2.6.3): `result` summary lines and one ObjectError per
    refused object. Message texts are Lockt's; they are not parsed beyond §2.6.3's table."""

    def __init__(self, message: str, *, result: list[str], errors: list[ObjectError]):
        super().__init__(message)
        self.result = result
        self.errors = errors


@dataclass(frozen=True)
class WriteSummary:
    """A write's success summary (§2.6.2), added up over its chunks. `errors` counts refused
    objects (with `validate_fails_batch=false`), whose details are in `object_errors`."""

    submitted: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    processed: int = 0
    errors: int = 0
    object_errors: tuple[ObjectError, ...] = ()

    @property
    def applied(self) -> int:
        """§10.5: inserted + updated + processed + deleted."""
        return self.inserted + self.updated + self.processed + self.deleted

    def __add__(self, other: "WriteSummary") -> "WriteSummary":
        return WriteSummary(
            submitted=self.submitted + other.submitted,
            inserted=self.inserted + other.inserted,
            updated=self.updated + other.updated,
            deleted=self.deleted + other.deleted,
            processed=self.processed + other.processed,
            errors=self.errors + other.errors,
            object_errors=self.object_errors + other.object_errors,
        )


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class LocktClient:
    """One Lockt API account. `http` carries the base URL and the credential headers
    (apps.integrations.services builds it from the account)."""

    def __init__(self, http: HttpClient, *, batch_limit: int = BATCH_LIMIT_DEFAULT):
        if batch_limit < 1:
            raise ValueError("batch_limit must be at least 1")
        self.http = http
        self.batch_limit = batch_limit
        self._write_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocktClient({self.http!r})"

    # --- reads -----------------------------------------------------------------------------------

    def _read(self, path: str, params: dict | str | None = None) -> list[dict]:
        body = self.http.request("GET", path, params=params).json()
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict) and "error" in data:
            data = [data]
        if not isinstance(data, list):
            raise Malformed(f"GET {path}: no `data` list in the answer")
        errors = [item["error"] for item in data if isinstance(item, dict) and set(item) == {"error"}]
        if errors:
            raise LocktRequestError(f"GET {path}: {'; '.join(map(str, errors))}", messages=[str(e) for e in errors])
        if not all(isinstance(item, dict) for item in data):
            raise Malformed(f"GET {path}: `data` holds something other than objects")
        return data

    def _read_checked(self, path: str, params=None) -> list[dict]:
        """A read whose 400 is Lockt's GET error shape (§2.6.1), turned into LocktRequestError."""
        try:
            return self._read(path, params)
        except RemoteError as exc:
            data = exc.body.get("data") if isinstance(exc.body, dict) else None
            if isinstance(data, list | dict):
                items = data if isinstance(data, list) else [data]
                messages = [str(i["error"]) for i in items if isinstance(i, dict) and "error" in i]
                if messages:
                    raise LocktRequestError(f"{exc}: {'; '.join(messages)}", messages=messages) from None
            raise

    # Spec: F35, F39, F40, F36, F38, F37
    def users(self) -> list[dict]:
        return self._read_checked("user")

    def user(self, user_id: int) -> dict | None:
        found = self._read_checked("user", {"id": str(int(user_id))})
        return found[0] if found else None

    def user_by_id_num(self, id_num: str) -> dict | None:
        if not id_num:  # L340: a blank id_num returns every user
            raise ValueError("id_num must not be blank")
        found = self._read_checked("user", {"id_num": id_num})
        return found[0] if found else None

    def users_missing_credentials(self) -> list[dict]:
        return self._read_checked("user", "missingcreds")

    def installers(self) -> list[dict]:
        return self._read_checked("user", "installers")

    def privileged_users(self) -> list[dict]:
        return self._read_checked("user", "privileged")

    # Spec: F02, F03
    def access_levels(self) -> list[dict]:
        return self._read_checked("accesslevel")

    def access_level_by_name(self, name: str) -> dict | None:
        found = self._read_checked("accesslevel", {"name": name})
        return found[0] if found else None

    # Spec: F11
    def delegates(self) -> list[dict]:
        return self._read_checked("delegate")

    # Spec: F07, F06, F08, F09, F10
    def credentials(self) -> list[dict]:
        return self._read_checked("credential")

    def credentials_of_user(self, user_id: int) -> list[dict]:
        return self._read_checked("credential", {"user_id": str(int(user_id))})

    def credential_by_card(self, card_num: str) -> dict | None:
        found = self._read_checked("credential", {"card_num": str(card_num)})
        return found[0] if found else None

    def credential(self, credential_id: int) -> dict | None:
        found = self._read_checked("credential", {"id": str(int(credential_id))})
        return found[0] if found else None

    def credential_summary(self) -> dict:
        found = self._read_checked("credentialsummary")
        return found[0] if found else {}

    # Spec: F27, F26, F24 (pending release), F23, F25
    def fobs(self) -> list[dict]:
        return self._read_checked("fob")

    def fob(self, fob_id: int) -> dict | None:
        found = self._read_checked("fob", {"id": str(int(fob_id))})
        return found[0] if found else None

    def fob_by_id_num(self, id_num: str) -> list[dict]:
        return self._read_checked("fob", {"id_num": id_num})  # Pending Release (A63): not relied on

    def fob_by_card(self, card_num: str) -> dict | None:
        found = self._read_checked("fob", {"card_num": str(card_num)})
        return found[0] if found else None

    def fob_by_name(self, name: str) -> dict | None:
        found = self._read_checked("fob", {"name": name})
        return found[0] if found else None

    # Spec: F17, F16, F15, F19
    def doors(self) -> list[dict]:
        return self._read_checked("door")

    def doors_of_user(self, user_id: int) -> list[dict]:
        return self._read_checked("door", {"user_id": str(int(user_id))})

    def doors_of_id_num(self, id_num: str) -> list[dict]:
        return self._read_checked("door", {"id_num": id_num})

    def door_states(self) -> list[dict]:
        return self._read_checked("doorstate")

    # Spec: F33, F30, F32
    def schedules(self) -> list[dict]:
        return self._read_checked("schedule")

    def locations(self) -> list[dict]:
        return self._read_checked("location")

    def location_types(self) -> list[dict]:
        return self._read_checked("locationtype")

    # Spec: F20, F21 (§10.8: ascending, only ids above the mark, whatever order Lockt uses)
    def events(self, *, after: int | None = None) -> list[dict]:
        found = self._read_checked("events", None if after is None else {"id": str(int(after))})
        unique = {}
        for event in found:
            event_id = event.get("id")
            try:
                event_id = int(event_id)
            except (TypeError, ValueError):
                raise Malformed("GET events: an event without a numeric id") from None
            if after is None or event_id > after:
                unique[event_id] = event
        return [unique[i] for i in sorted(unique)]

    # Spec: S01, S03, S04, S05, S06, S07, S08 (undocumented bodies: status only, §10.11)
    def about(self) -> dict:
        body = self.http.request("GET", "about").json()
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, list) and len(data) == 1:
            data = data[0]
        if not isinstance(data, dict):
            raise Malformed("GET about: no `data` object in the answer")
        return data

    def ping(self) -> None:
        self.http.request("GET", "ping")

    def maintenance(self) -> Any:
        return self.http.request("GET", "maintenance").json()

    def settings(self) -> Any:
        return self.http.request("GET", "settings").json()

    def site(self) -> Any:
        return self.http.request("GET", "site").json()

    def object_types(self) -> list[dict]:
        return self._read_checked("object", "listtypes")

    def object_type(self, name: str) -> list[dict]:
        return self._read_checked("object", {"type": name})

    # --- writes ----------------------------------------------------------------------------------

    def _write(
        self,
        method: str,
        path: str,
        node: str,
        items: Iterable[dict] | None,
        *,
        options: dict[str, bool] | None = None,
        limit: int | None = None,
        params=None,
    ) -> WriteSummary:
        items = list(items) if items is not None else None
        total = WriteSummary()
        with self._write_lock:
            if items is None:  # a call without a body (POST /delegate?purge)
                return self._send_write(method, path, None, params)
            for chunk in _chunks(items, limit or self.batch_limit):
                body: dict[str, Any] = {node: chunk}
                if options is not None:
                    body["options"] = {name: _flag(value) for name, value in options.items()}
                total = total + self._send_write(method, path, body, params)
        return total

    def _send_write(self, method: str, path: str, body, params) -> WriteSummary:
        try:
            kwargs = {} if body is None else {"json": body}
            answer = self.http.request(method, path, params=params, **kwargs).json()
        except RemoteError as exc:
            raise self._failure(f"{method} {path}", exc.body) or exc from None
        except Transient:
            raise
        failure = self._failure(f"{method} {path}", answer)
        if failure is not None:
            raise failure
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            raise Malformed(f"{method} {path}: no summary in the answer")
        counts = {}
        for name in ("submitted", "inserted", "updated", "deleted", "processed", "errors"):
            value = data.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int):
                raise Malformed(f"{method} {path}: summary `{name}` is not a number")
            counts[name] = value
        object_errors = tuple(
            self._object_errors(answer.get("errors") if isinstance(answer.get("errors"), list) else [])
        )
        return WriteSummary(**counts, object_errors=object_errors)

    @staticmethod
    def _object_errors(items: list) -> Iterator[ObjectError]:
        for item in items:
            if isinstance(item, dict):
                messages = item.get("error")
                messages = messages if isinstance(messages, list) else [messages]
                yield ObjectError(tuple(str(m) for m in messages if m is not None), item.get("input_data"))

    def _failure(self, call: str, body) -> IntegrationError | None:
        """§10.5 step 4: a top-level `result` list means the batch (or the request) failed."""
        if not isinstance(body, dict) or not isinstance(body.get("result"), list):
            return None
        result = [str(line) for line in body["result"]]
        if any(line.startswith(TRANSIENT_MESSAGES) for line in result):
            return Transient(f"{call}: {' '.join(result)}")
        errors = list(self._object_errors(body.get("errors") if isinstance(body.get("errors"), list) else []))
        return LocktBatchFailed(f"{call}: {' '.join(result)}", result=result, errors=errors)

    # Spec: F41, F42, F34
    def users_upsert(
        self,
        users: Iterable[dict],
        *,
        update_existing: bool = True,
        replace_privileges: bool = True,
        validate_fails_batch: bool = True,
    ) -> WriteSummary:
        """POST /user in chunks; every option sent (update_existing defaults to false at Lockt)."""
        options = {
            "validate_fails_batch": validate_fails_batch,
            "update_existing": update_existing,
            "replace_privileges": replace_privileges,
        }
        return self._write("POST", "user", "users", users, options=options)

    def user_update(
        self, user: dict, *, replace_privileges: bool = True, validate_fails_batch: bool = True
    ) -> WriteSummary:
        """PUT /user: one user, only the fields given (L232)."""
        options = {"validate_fails_batch": validate_fails_batch, "replace_privileges": replace_privileges}
        return self._write("PUT", "user", "users", [user], options=options, limit=1)

    def users_delete(self, user_ids: Iterable[int], *, validate_fails_batch: bool = True) -> WriteSummary:
        items = [{"id": int(i)} for i in user_ids]
        return self._write("DELETE", "user", "users", items, options={"validate_fails_batch": validate_fails_batch})

    def user_insert_or_find(self, user: dict) -> dict | None:
        """Insert one user (`id` -1); after a timeout, look it up by `id_num` before any resend
        (§10.6). Returns the user as Lockt has it, or None if the insert did not happen."""
        insert = {**user, "id": -1}
        try:
            self.users_upsert([insert], update_existing=False)
        except Transient:
            found = self.user_by_id_num(insert["id_num"])
            if found is not None:
                return found
            self.users_upsert([insert], update_existing=False)
        return self.user_by_id_num(insert["id_num"])

    # Spec: F04, F01
    def access_levels_create(self, levels: Iterable[dict], *, validate_fails_batch: bool = True) -> WriteSummary:
        return self._write(
            "POST", "accesslevel", "accesslevels", levels, options={"validate_fails_batch": validate_fails_batch}
        )

    def access_levels_delete(self, level_ids: Iterable[int], *, validate_fails_batch: bool = True) -> WriteSummary:
        items = [{"id": int(i)} for i in level_ids]
        return self._write(
            "DELETE", "accesslevel", "accesslevels", items, options={"validate_fails_batch": validate_fails_batch}
        )

    # Spec: F12, F13 (no options: "Errors will always result in batch failure", L852)
    def delegate_create(self, delegate: dict) -> WriteSummary:
        return self._write("POST", "delegate", "delegates", [delegate], limit=1)

    def delegates_purge(self) -> WriteSummary:
        return self._write("POST", "delegate", "delegates", None, params="purge")

    # Spec: F05
    def credentials_delete(self, credential_ids: Iterable[int], *, validate_fails_batch: bool = True) -> WriteSummary:
        items = [{"id": int(i)} for i in credential_ids]
        return self._write(
            "DELETE", "credential", "credentials", items, options={"validate_fails_batch": validate_fails_batch}
        )

    # Spec: F28, F29 (no options node documented), F22
    def fobs_create(self, fobs: Iterable[dict]) -> WriteSummary:
        return self._write("POST", "fob", "fobs", fobs)

    def fobs_reassign(self, fobs: Iterable[dict]) -> WriteSummary:
        """PUT /fob: `[{"id", "user_id" (0 = none), "access_effective", "access_expires"}]`."""
        return self._write("PUT", "fob", "fobs", fobs)

    def fobs_delete(self, fob_ids: Iterable[int], *, validate_fails_batch: bool = True) -> WriteSummary:
        items = [{"id": int(i)} for i in fob_ids]
        return self._write("DELETE", "fob", "fobs", items, options={"validate_fails_batch": validate_fails_batch})

    # Spec: F18, F14
    def doors_create(self, doors: Iterable[dict], *, validate_fails_batch: bool = True) -> WriteSummary:
        return self._write("POST", "door", "doors", doors, options={"validate_fails_batch": validate_fails_batch})

    def doors_delete(self, door_ids: Iterable[int], *, validate_fails_batch: bool = True) -> WriteSummary:
        items = [{"id": int(i)} for i in door_ids]
        return self._write("DELETE", "door", "doors", items, options={"validate_fails_batch": validate_fails_batch})

    # Spec: F31
    def locations_create(self, locations: Iterable[dict], *, validate_fails_batch: bool = True) -> WriteSummary:
        return self._write(
            "POST", "location", "locations", locations, options={"validate_fails_batch": validate_fails_batch}
        )
