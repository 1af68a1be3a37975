"""The Lockt push: Keyhouse-owned people → Lockt users (docs/INTEGRATIONS.md "Lockt push").

Runs at the end of each Lockt poll, with the records the poll read. A person is Keyhouse-owned
in an account when a manager put them in one of the account's (Lockt-owned) groups and Lockt
did not bring them: no user link, or a link `fromInternalToExternal`. For each:

- not in Lockt yet → POST /user (`id` -1, `update_existing: "true"`, `id_num` = the Keyhouse
  user id), looked up by `id_num` after a timeout before any resend (§10.6), then linked;
- in Lockt and different (names, email, phone, enabled, levels) → POST /user update of its
  Lockt id with the full record (Lockt updates are full-record; its PIN read back from
  `?id=`): the push overwrites edits made in Lockt (owner wins; logged);
- no longer in any of the account's groups, or deleted in Keyhouse → DELETE /user, unlinked.

Lockt needs what Keyhouse may not have: a phone (7–15 digits) and a numeric PIN. A person
without a phone is not pushed (record failed on `phone`); a new Lockt user gets a random
6-digit PIN, never stored or shown by Keyhouse (Keyhouse does not use Lockt PINs).
A refused push (Lockt's messages) marks the person's record failed; the poll goes on.
"""

import logging
import secrets

from django.db import transaction

from apps.access.models import AccessBlock, Membership
from apps.accounts.models import User
from apps.core.choices import EntityTypeState
from apps.integrations.http import IntegrationError
from apps.integrations.lockt.client import LocktBatchFailed, LocktClient
from apps.integrations.lockt.sync import (
    FROM_KEYHOUSE,
    FROM_LOCKT,
    KINDS,
    PENDING_PREFIX,
    LocktSync,
    RecordFailed,
    _link_create,
    _record_ok,
    _unlink,
    lockt_record_fail,
    record_delete,
)
from apps.integrations.mapping import MappingError

logger = logging.getLogger("keyhouse.integrations.lockt")


def _names(display_name: str) -> tuple[str, str]:
    first, _, last = display_name.strip().rpartition(" ")
    return (first, last) if first else (last, last)


def _phone(user: User) -> str:
    return "".join(ch for ch in user.phone_number if ch.isdigit())


class LocktPush:
    def __init__(self, sync: LocktSync, client: LocktClient, remote_users: list[dict]):
        self.sync = sync
        self.client = client
        self.account = sync.account
        self.state = sync.state
        self.remote = {}
        for record in remote_users:
            if isinstance(record, dict) and str(record.get("id", "")).isdigit():
                self.remote[str(record["id"])] = record

    def run(self) -> None:
        groups = {
            link.object_id: int(external_id)
            for (kind, external_id), link in self.state.links.items()
            if kind == KINDS.GROUP
        }
        lockt_owned = {
            link.object_id
            for (kind, _), link in self.state.links.items()
            if kind == KINDS.USER and link.sync_direction == FROM_LOCKT
        }
        wanted: dict = {}
        for user_id, group_id in Membership.objects.filter(user_group_id__in=groups).values_list(
            "user_id", "user_group_id"
        ):
            if user_id not in lockt_owned:
                wanted.setdefault(user_id, set()).add(groups[group_id])
        people = {u.pk: u for u in User.objects.filter(pk__in=wanted).exclude(type_state=EntityTypeState.DELETED)}
        blocked = set(
            AccessBlock.objects.filter(property=self.sync.prop, user_id__in=people).values_list("user_id", flat=True)
        )
        linked = {
            link.object_id: (external_id, link)
            for (kind, external_id), link in list(self.state.links.items())
            if kind == KINDS.USER and link.sync_direction == FROM_KEYHOUSE
        }
        for user_id, user in people.items():
            desired = self._desired(user, sorted(wanted[user_id]), enabled=user_id not in blocked)
            try:
                if desired is None:
                    raise RecordFailed("phone", "", "Lockt needs a phone number; add one to the person in Keyhouse")
                if user_id in linked:
                    self._update(user, linked[user_id][0], desired)
                else:
                    self._insert(user, desired)
            except RecordFailed as exc:
                self._fail(user, linked.get(user_id, (None,))[0], exc)
            except LocktBatchFailed as exc:
                messages = "; ".join(m for error in exc.errors for m in error.messages) or " ".join(exc.result)
                self._fail(
                    user, linked.get(user_id, (None,))[0], RecordFailed("push", "", f"Lockt refused it: {messages}")
                )
        for user_id, (external_id, _link) in linked.items():
            if user_id not in people:
                self._delete(external_id)
        wanted_ids = {str(user_id) for user_id in people}
        stale = [
            key
            for key in self.state.records
            if key[0] == KINDS.USER
            and key[1].startswith(PENDING_PREFIX)
            and key[1][len(PENDING_PREFIX) :] not in wanted_ids
        ]
        for key in stale:  # a failed push of someone no longer to push: nothing left to fix
            record_delete(self.state, key)

    # ---------------------------------------------------------------------------------------------

    def _desired(self, user: User, level_ids: list[int], *, enabled: bool) -> dict | None:
        phone = _phone(user)
        if not 7 <= len(phone) <= 15:
            return None
        first, last = _names(user.display_name)
        return {
            "id_num": str(user.pk),
            "first_name": first,
            "last_name": last,
            "email": user.email,
            "phone": phone,
            "enabled": "true" if enabled else "false",
            "accesslevels": [{"id": level_id} for level_id in level_ids],
        }

    @staticmethod
    def _differs(remote: dict, desired: dict) -> bool:
        for name in ("id_num", "first_name", "last_name", "phone"):
            if str(remote.get(name, "")) != desired[name]:
                return True
        if str(remote.get("email", "")).lower() != desired["email"].lower():
            return True
        if str(remote.get("enabled", "true")).lower() != desired["enabled"]:
            return True
        held = set()
        for item in remote.get("accesslevels") or []:
            try:
                held.add(int(item.get("id") or item.get("unid")))
            except (AttributeError, TypeError, ValueError):
                return True
        return held != {item["id"] for item in desired["accesslevels"]}

    def _insert(self, user: User, desired: dict) -> None:
        found = next((r for r in self.remote.values() if str(r.get("id_num", "")) == str(user.pk)), None)
        if found is None:
            found = self.client.user_insert_or_find({**desired, "pin": f"{secrets.randbelow(10**6):06d}"})
            if found is None:
                raise RecordFailed("id_num", str(user.pk), "Lockt did not keep the new user")
            self.sync._count("created")
        elif self._differs(found, desired):
            self._send_update(user, str(found["id"]), desired)
        self._linked(user, str(found["id"]), created=True)

    def _update(self, user: User, external_id: str, desired: dict) -> None:
        remote = self.remote.get(external_id)
        if remote is None:  # deleted in Lockt: Keyhouse owns the person, so it goes back
            with transaction.atomic():
                _unlink(self.account, self.state, KINDS.USER, external_id)
            self._insert(user, desired)
            return
        if self._differs(remote, desired):
            self._send_update(user, external_id, desired)
        self._linked(user, external_id, created=False)

    def _send_update(self, user: User, external_id: str, desired: dict) -> None:
        detail = self.client.user(int(external_id)) or {}
        logger.info("lockt account %s: user %s pushed over its Lockt copy", self.account.pk, external_id)
        self.client.users_upsert(
            [{**desired, "id": int(external_id), "pin": str(detail.get("pin") or f"{secrets.randbelow(10**6):06d}")}],
            update_existing=True,
            replace_privileges=True,
        )
        self.sync._count("updated")

    @transaction.atomic
    def _linked(self, user: User, external_id: str, *, created: bool) -> None:
        if (KINDS.USER, external_id) not in self.state.links:
            _link_create(self.account, self.state, KINDS.USER, external_id, user, FROM_KEYHOUSE)
        pending = f"{PENDING_PREFIX}{user.pk}"
        if (KINDS.USER, pending) in self.state.records:
            record_delete(self.state, (KINDS.USER, pending))
        record = self.state.records.get((KINDS.USER, external_id))
        if record is None or record.status != "synced":  # the poll keeps its digest up to date
            digest = record.digest if record is not None else ""
            _record_ok(self.account, self.state, KINDS.USER, external_id, digest=digest, label=user.display_name)

    def _delete(self, external_id: str) -> None:
        try:
            if external_id in self.remote:
                self.client.users_delete([int(external_id)])
        except (LocktBatchFailed, IntegrationError, MappingError) as exc:
            logger.warning("lockt account %s: user %s not deleted in Lockt: %s", self.account.pk, external_id, exc)
            return
        with transaction.atomic():
            _unlink(self.account, self.state, KINDS.USER, external_id)
        self.sync._count("updated")

    def _fail(self, user: User, external_id: str | None, error: RecordFailed) -> None:
        lockt_record_fail(
            account=self.account,
            state=self.state,
            kind=KINDS.USER,
            external_id=external_id or f"{PENDING_PREFIX}{user.pk}",
            label=user.display_name,
            error=error,
        )
        self.sync._count("failed")
