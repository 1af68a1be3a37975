"""Lockt sync of users (people, blocks, memberships) and delegates (grants), and their removal
(docs/INTEGRATIONS.md "Lockt sync")."""

import uuid
from typing import TYPE_CHECKING

from django.db import transaction

from apps.access import services as access_services
from apps.access.models import AccessBlock, AccessGrant, Membership
from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.core.choices import EntityTypeState, ExternalRefSyncStatus
from apps.core.exceptions import ApplicationError
from apps.core.models import ExternalRef
from apps.integrations.lockt import mapping
from apps.integrations.lockt.sync_records import (
    FROM_KEYHOUSE,
    FROM_LOCKT,
    GRANT_KIND,
    KINDS,
    PENDING_PREFIX,
    RecordFailed,
    _link_create,
    _links_batch_create,
    _phone_ok,
    _unlink,
    logger,
)
from apps.integrations.mapping import MappingError
from apps.integrations.models import LocktRecord
from apps.locks.models import Lock

if TYPE_CHECKING:
    from apps.integrations.lockt.sync import LocktSync

USERS_BATCH = 500  # new people per transaction (docs/INTEGRATIONS.md "Lockt sync")


class PeopleSync:
    """Users and delegates of `LocktSync` (a mixin: its state and helpers)."""

    # users ---------------------------------------------------------------------------------------------

    def users_apply(self, records: list[dict]) -> None:
        self.users_seen: set[str] = set()
        user_ids = [link.object_id for (kind, _), link in self.state.links.items() if kind == KINDS.USER]
        # What an unchanged poll compares, as plain rows; a person's model instance is read only
        # when a write needs it (`_user`): 10,000 instances were a fifth of an unchanged poll.
        self.user_rows = {
            row[0]: row[1:]
            for row in User.objects.filter(pk__in=user_ids).values_list(
                "id", "email", "display_name", "phone_number", "type_state"
            )
        }
        self.users: dict = {}
        group_ids = [  # Lockt's levels only: a group Keyhouse pushed keeps its members as Keyhouse says
            link.object_id
            for (kind, _), link in self.state.links.items()
            if kind == KINDS.GROUP and link.sync_direction == FROM_LOCKT
        ]
        self.memberships: dict = {}
        self.windows: dict = {}  # (user, group) -> (valid_from, valid_until) of windowed memberships
        for user_id, group_id, valid_from, valid_until in Membership.objects.filter(
            user_group_id__in=group_ids
        ).values_list("user_id", "user_group_id", "valid_from", "valid_until"):
            self.memberships.setdefault(user_id, set()).add(group_id)
            if valid_from or valid_until:
                self.windows[user_id, group_id] = (valid_from, valid_until)
        self.blocked = set(
            AccessBlock.objects.filter(property=self.prop, created_by=self.actor).values_list("user_id", flat=True)
        )
        self.blocked_any = set(AccessBlock.objects.filter(property=self.prop).values_list("user_id", flat=True))
        self.user_levels: dict[str, tuple[int, ...]] = {}
        self.taken_emails: dict[str, str] = {}
        self.taken_id_nums: dict[str, str] = {}
        mapped = []
        for index, record in enumerate(records):
            if isinstance(record, dict) and record.get("id") not in (None, ""):
                self.users_seen.add(str(record.get("id")))
            values = self._map(KINDS.USER, record, lambda r: mapping.user_from_lockt(r, site_tz=self.site_tz), index)
            if values is None:
                continue
            self.user_levels[str(values.external_id)] = values.group_external_ids
            mapped.append((record, values))
        known = self._emails_known(  # only a record not linked yet may match a person by email
            [values for _, values in mapped if (KINDS.USER, str(values.external_id)) not in self.state.links]
        )
        fresh = []
        for record, values in mapped:
            free = self._taken_check(values)
            if free and self._user_unchanged(values, record):
                self._count("unchanged")
            elif free and self._user_fresh(values, known):
                fresh.append((record, values))
            else:
                self._reconcile(KINDS.USER, values.external_id, record, values.display_name, self._user_write, values)
        for start in range(0, len(fresh), USERS_BATCH):
            self._users_batch(fresh[start : start + USERS_BATCH])

    def _emails_known(self, mapped: list[mapping.UserValues]) -> set[str]:
        """The emails of the records Keyhouse already has a person with (any state): one query per
        thousand records."""
        emails = list({values.email.lower() for values in mapped})
        known = set()
        for start in range(0, len(emails), 1000):
            known.update(User.objects.filter(email__in=emails[start : start + 1000]).values_list("email", flat=True))
        return known

    def _taken_check(self, values: mapping.UserValues) -> bool:
        """Claim the record's email and `id_num` for it in this account, in record order (as
        `_user_write` does); False when another record has one (`_user_write` then fails it)."""
        external_id = str(values.external_id)
        for taken, key in ((self.taken_emails, values.email.lower()), (self.taken_id_nums, values.id_num)):
            if key and taken.get(key, external_id) != external_id:
                return False
            if key:
                taken[key] = external_id
        return True

    def _user_fresh(self, values: mapping.UserValues, known: set[str]) -> bool:
        """A person to create in a batch (its email and `id_num` its own in this account): never
        linked nor recorded, no Keyhouse person to match (email, `id_num` naming a Keyhouse id),
        not blocked, every level taken. Anything else goes the one-record way."""
        external_id = str(values.external_id)
        if (KINDS.USER, external_id) in self.state.links or (KINDS.USER, external_id) in self.state.records:
            return False
        if values.email.lower() in known or values.blocked is True or _uuid_like(values.id_num):
            return False
        return all(
            level_id in self.untaken_levels or self._object_id(KINDS.GROUP, str(level_id)) is not None
            for level_id in values.group_external_ids
        )

    def _users_batch(self, batch: list) -> None:
        """New people in one transaction (`lockt_users_create`); if the batch is refused, each
        record is applied alone, so a bad one fails alone."""
        made = self._batch_or_each(KINDS.USER, batch, lockt_users_create, self._user_write)
        if made is None:
            return
        for (_, values), (link, record, user, wanted) in zip(batch, made, strict=True):
            self.state.links[KINDS.USER, link.external_id] = link
            self.state.records[KINDS.USER, record.external_id] = record
            self.users[user.pk] = user
            if wanted:
                self.memberships[user.pk] = wanted
            window = _window(values)
            for group_id in wanted if window else ():
                self.windows[user.pk, group_id] = window
        self.counts.created += len(made)

    def _user_match(self, values: mapping.UserValues):
        """First link: `id_num` naming a Keyhouse user (one Keyhouse pushed: Keyhouse owns it),
        then the email (Lockt owns the copy from now on); else a new person."""
        if values.id_num:
            try:
                keyhouse_id = uuid.UUID(values.id_num)
            except ValueError:
                keyhouse_id = None
            if keyhouse_id is not None:
                user = User.objects.filter(pk=keyhouse_id).exclude(type_state=EntityTypeState.DELETED).first()
                if user is not None:
                    return user, FROM_KEYHOUSE
        user = User.objects.filter(email=values.email.lower()).exclude(type_state=EntityTypeState.DELETED).first()
        return user, FROM_LOCKT

    def _user_groups(self, values: mapping.UserValues) -> set:
        """The Keyhouse groups the person should be in (their window is on the memberships)."""
        wanted = set()
        for i, level_id in enumerate(values.group_external_ids):
            if level_id in self.untaken_levels:
                continue
            group_id = self._object_id(KINDS.GROUP, str(level_id))
            if group_id is None:
                raise RecordFailed(f"accesslevels[{i}]", level_id, "no such access level (or it was not taken)")
            wanted.add(group_id)
        return wanted

    def _windows_unchanged(self, user_id, groups, values: mapping.UserValues) -> bool:
        """Every membership of `groups` carries the person's Lockt window (none: no window)."""
        window = _window(values)
        return all(self.windows.get((user_id, group_id)) == window for group_id in groups)

    def _windows_write(self, user, groups, values: mapping.UserValues) -> bool:
        window, changed = _window(values), False
        for group_id in sorted(groups, key=str):
            if self.windows.get((user.pk, group_id)) != window:
                access_services.membership_window_set(
                    group=self.groups[group_id],
                    user=user,
                    valid_from=window[0] if window else None,
                    valid_until=window[1] if window else None,
                    actor=self.actor,
                )
                if window:
                    self.windows[user.pk, group_id] = window
                else:
                    self.windows.pop((user.pk, group_id), None)
                changed = True
        return changed

    def _user_unchanged(self, values: mapping.UserValues, raw: dict) -> bool:
        """Nothing to write for this linked person: its record applied as it is now (same digest,
        synced) and Keyhouse still holds what `_user_write` would make of it (person, block,
        memberships). Checked in memory, so an unchanged poll opens no transaction for it."""
        key = (KINDS.USER, str(values.external_id))
        link, record = self.state.links.get(key), self.state.records.get(key)
        if link is None or record is None or link.sync_status != ExternalRefSyncStatus.SYNCED:
            return False
        if (record.status, record.error_field, record.error_value, record.error_reason) != ("synced", "", "", ""):
            return False
        if record.label != values.display_name[:300] or record.digest != mapping.record_digest(raw):
            return False
        if link.sync_direction == FROM_KEYHOUSE:
            return True  # Keyhouse owns it: `_user_write` leaves it to the push
        user_id, row = link.object_id, self.user_rows.get(link.object_id)
        if row is None or row[3] == EntityTypeState.DELETED:
            return False
        phone = values.phone if _phone_ok(values.phone) else ""
        if row[:3] != (values.email.lower(), values.display_name, phone):
            return False
        if (values.blocked is True and user_id not in self.blocked_any) or (
            values.blocked is False and user_id in self.blocked
        ):
            return False
        try:
            wanted = self._user_groups(values)
        except RecordFailed:
            return False
        return wanted == self.memberships.get(user_id, set()) and self._windows_unchanged(user_id, wanted, values)

    def _user(self, user_id):
        """A linked person's model instance, read from the database the first time a write needs it."""
        user = self.users.get(user_id)
        if user is None and user_id is not None:
            user = User.objects.filter(pk=user_id).first()
            if user is not None:
                self.users[user_id] = user
        return user

    def _user_write(self, values: mapping.UserValues, existing_id) -> tuple[str, object]:
        external_id = str(values.external_id)
        for taken, key, what in (
            (self.taken_emails, values.email.lower(), "email"),
            (self.taken_id_nums, values.id_num, "id_num"),
        ):
            if key and taken.get(key, external_id) != external_id:
                raise RecordFailed(what, key, f"another Lockt user ({taken[key]}) of this account has it too")
            if key:
                taken[key] = external_id
        link = self.state.links.get((KINDS.USER, external_id))
        if link is not None and link.sync_direction == FROM_KEYHOUSE:
            return "unchanged", self._user(link.object_id)  # Keyhouse owns it: the push's
        phone = values.phone if _phone_ok(values.phone) else ""
        wanted = self._user_groups(values)
        outcome = "unchanged"
        created_here = None
        if existing_id is None:
            user, direction = self._user_match(values)
            if user is not None:
                clash = ExternalRef.objects.filter(
                    account_id=self.account.pk, content_type=self.state.content_types[KINDS.USER], object_id=user.pk
                ).first()
                if clash is not None:
                    raise RecordFailed(
                        "email", values.email, f"already linked to Lockt user {clash.external_id} of this account"
                    )
                created_here = False
            else:
                direction = FROM_LOCKT
                user = account_services.user_create(
                    email=values.email, display_name=values.display_name, phone_number=phone, actor=self.actor
                )
                created_here = True
            _link_create(self.account, self.state, KINDS.USER, external_id, user, direction)
            self.users[user.pk] = user
            outcome = "created"
        else:
            user = self._user(existing_id) or User.objects.get(pk=existing_id)
            if user.type_state == EntityTypeState.DELETED:
                raise RecordFailed("id", values.external_id, "its Keyhouse person was deleted; unlink it to relink")
        link = self.state.links[KINDS.USER, external_id]
        if link.sync_direction == FROM_KEYHOUSE:
            return outcome, user  # first linked now, Keyhouse-owned: the poll does not overwrite it
        fields = {}
        if user.email != values.email.lower():
            fields["email"] = values.email
        if user.display_name != values.display_name:
            fields["display_name"] = values.display_name
        if user.phone_number != phone:
            fields["phone_number"] = phone
        if fields:
            clash = User.objects.filter(email=values.email.lower()).exclude(pk=user.pk).exists()
            if clash:
                raise RecordFailed("email", values.email, "another Keyhouse person has this email")
            user = account_services.user_update(user=user, actor=self.actor, **fields)
            self.users[user.pk] = user
            outcome = outcome if outcome == "created" else "updated"
        if values.blocked is True and user.pk not in self.blocked_any:
            access_services.block_create(prop=self.prop, user=user, actor=self.actor, reason="Disabled in Lockt")
            self.blocked.add(user.pk)
            self.blocked_any.add(user.pk)
            outcome = outcome if outcome == "created" else "updated"
        elif values.blocked is False and user.pk in self.blocked:
            access_services.block_delete(prop=self.prop, user=user, actor=self.actor)
            self.blocked.discard(user.pk)
            self.blocked_any.discard(user.pk)
            outcome = outcome if outcome == "created" else "updated"
        held = self.memberships.get(user.pk, set())
        for group_id in sorted(wanted - held, key=str):
            access_services.membership_add(group=self.groups[group_id], user=user, actor=self.actor)
        for group_id in sorted(held - wanted, key=str):
            access_services.membership_remove(group=self.groups[group_id], user=user, actor=self.actor)
        if wanted != held:
            self.memberships[user.pk] = wanted
            outcome = outcome if outcome == "created" else "updated"
        for group_id in held - wanted:
            self.windows.pop((user.pk, group_id), None)
        if self._windows_write(user, wanted, values):
            outcome = outcome if outcome == "created" else "updated"
        if created_here is not None:
            self._created_here = created_here
        return outcome, user

    # delegates → grants ----------------------------------------------------------------------------------

    def delegates_apply(self, records) -> None:
        """Each delegate level (F11): a grant on each of its doors' locks to each user holding it
        (users list it in `accesslevels`, A49), for its window; GUEST when it ends, else USER.
        Expired or gone → revoked. Linked per (delegate, user, door); Lockt owns them."""
        desired: dict[str, tuple] = {}
        for record in records:
            try:
                values = mapping.delegate_from_lockt(record, site_tz=self.site_tz)
            except MappingError as exc:
                logger.warning("lockt account %s: delegate skipped: %s", self.account.pk, exc)
                self._count("failed")
                continue
            if values.valid_until is not None and values.valid_until <= self.now:
                continue  # expired: no access (a purge removes it in Lockt)
            for user_ext, levels in self.user_levels.items():
                user_id = self._object_id(KINDS.USER, user_ext)
                if values.external_id not in levels or user_id is None:
                    continue
                for door_ext in values.door_external_ids:
                    lock_id = self._object_id(KINDS.LOCK, str(door_ext))
                    if lock_id is not None:
                        key = f"{values.external_id}:{user_ext}:{door_ext}"
                        desired[key] = (user_id, lock_id, values.valid_from, values.valid_until)
        linked = {ext: link for (kind, ext), link in self.state.links.items() if kind == GRANT_KIND}
        grants = {g.pk: g for g in AccessGrant.objects.filter(pk__in=[link.object_id for link in linked.values()])}
        for key, link in linked.items():
            grant = grants.get(link.object_id)
            held = grant is not None and grant.revoked_at is None
            same = held and (grant.user_id, grant.lock_id, grant.valid_from, grant.valid_until) == desired.get(key)
            if same:
                desired.pop(key)
                continue
            with transaction.atomic():
                if held:
                    access_services.grant_revoke(grant=grant, actor=self.actor)
                _unlink(self.account, self.state, GRANT_KIND, key)
            if key not in desired:
                self._count("updated")
        for key, (user_id, lock_id, valid_from, valid_until) in desired.items():
            try:
                with transaction.atomic():
                    grant = access_services.grant_create(
                        prop=self.prop,
                        user=self._user(user_id) or User.objects.get(pk=user_id),
                        lock=self.locks.get(lock_id) or Lock.objects.get(pk=lock_id),
                        access_level="GUEST" if valid_until else "USER",
                        valid_from=valid_from,
                        valid_until=valid_until,
                        actor=self.actor,
                    )
                    _link_create(self.account, self.state, GRANT_KIND, key, grant)
            except ApplicationError as exc:
                logger.warning("lockt account %s: delegate grant %s not made: %s", self.account.pk, key, exc)
                self._count("failed")
                continue
            self._count("created")

    def gone_users_remove(self) -> None:
        for external_id, link in self._gone(KINDS.USER, self.users_seen):
            created_here = getattr(self.state.records.get((KINDS.USER, external_id)), "created_here", False)
            lockt_user_remove(
                sync=self, external_id=external_id, user=self._user(link.object_id), created_here=created_here
            )
            self._count("updated")
        # failed records of users no longer listed: forgotten
        stale = [
            k
            for k in self.state.records
            if k[0] == KINDS.USER
            and k[1] not in self.users_seen
            and k not in self.state.links
            and not k[1].startswith(PENDING_PREFIX)  # a Keyhouse person's push: the push's to clear
        ]
        if stale:
            LocktRecord.objects.filter(
                account=self.account, kind=KINDS.USER, external_id__in=[k[1] for k in stale]
            ).delete()
            for k in stale:
                self.state.records.pop(k, None)


@transaction.atomic
def lockt_user_remove(*, sync: "LocktSync", external_id: str, user, created_here: bool) -> None:
    """A Lockt-owned user no longer in Lockt: out of the account's groups, its Lockt block
    lifted, unlinked; the person is deleted too when the sync made it and nothing else ties it
    to Keyhouse (other groups, grants, permissions, other links). Its access is revoked either
    way, and reaches offline locks at their next sync like any revocation."""
    if user is not None:
        for group_id in sorted(sync.memberships.get(user.pk, set()), key=str):
            access_services.membership_remove(group=sync.groups[group_id], user=user, actor=sync.actor)
        sync.memberships.pop(user.pk, None)
        if user.pk in sync.blocked:
            access_services.block_delete(prop=sync.prop, user=user, actor=sync.actor)
    _unlink(sync.account, sync.state, KINDS.USER, external_id)
    if user is None or not created_here or user.type_state == EntityTypeState.DELETED:
        return
    tied = (
        Membership.objects.filter(user=user).exists()
        or AccessGrant.objects.filter(user=user, revoked_at__isnull=True).exists()
        or user.grants.exists()
        or ExternalRef.objects.filter(content_type=sync.state.content_types[KINDS.USER], object_id=user.pk).exists()
    )
    if not tied:
        access_services.user_delete(user=user, actor=sync.actor)


def _window(values: mapping.UserValues) -> tuple | None:
    """The person's Lockt window as a membership window (None: unbounded both ways)."""
    if values.valid_from is None and values.valid_until is None:
        return None
    return (values.valid_from, values.valid_until)


def _uuid_like(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


@transaction.atomic
def lockt_users_create(*, sync: "LocktSync", batch: list) -> list[tuple]:
    """New Lockt people of one poll at once (see `PeopleSync._user_fresh`): the people
    (`users_create`, one `user.created` each), their links (one `lockt_record.batch_linked`),
    their records and their levels' memberships (`memberships_add`: one `group.members_added`,
    so derived access is refreshed once for the batch). Returns (link, record, person, group
    ids) each; the caller puts them in the poll's state once this has committed."""
    people, wanted = [], []
    for _, values in batch:
        phone = values.phone if _phone_ok(values.phone) else ""
        people.append({"email": values.email, "display_name": values.display_name, "phone_number": phone})
        groups = set()
        for level_id in values.group_external_ids:
            if level_id not in sync.untaken_levels:
                groups.add(sync._object_id(KINDS.GROUP, str(level_id)))
        wanted.append(groups)
    users = account_services.users_create(people=people, actor=sync.actor)
    rows = [
        (str(values.external_id), user, raw, values.display_name)
        for (raw, values), user in zip(batch, users, strict=True)
    ]
    links, records = _links_batch_create(sync.account, sync.state, KINDS.USER, rows, sync.actor)
    access_services.memberships_add(
        memberships=[
            (sync.groups[group_id], user) for user, groups in zip(users, wanted, strict=True) for group_id in groups
        ],
        actor=sync.actor,
    )
    for (_, values), user, groups in zip(batch, users, wanted, strict=True):
        window = _window(values)
        for group_id in sorted(groups, key=str) if window else ():  # only people Lockt gives a window
            access_services.membership_window_set(
                group=sync.groups[group_id], user=user, valid_from=window[0], valid_until=window[1], actor=sync.actor
            )
    return list(zip(links, records, users, wanted, strict=True))
