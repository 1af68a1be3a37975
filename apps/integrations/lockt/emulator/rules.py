"""The 85 validation rows of spec §5 (dump L248–L332), as a table.

Each `Rule` cites its dump row (`L296`), endpoint, method, submethod and field as printed, and
names the check that enforces it. `validate()` runs the rules of one endpoint/method/submethod
over one submitted object: per field, in the order missing → numeric → format → length →
valid → fob → exists → duplicate, stopping at a field's first failure (so a blank card number is
reported once, as blank). Messages follow §2.6.3: exact where the dump gives one, otherwise its
patterns `Non-Numeric <field> found: <v>`, `Invalid <thing> found: <v>`, `<Thing> Already Exists: <v>`.

Rows L317/L324/L326 ("Used for update determination") decide INSERT vs UPDATE; handlers/users.py
does that, so they carry no check here. Checks other than "Missing or blank" skip absent or blank
values.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from apps.integrations.lockt.emulator import models as m
from apps.integrations.lockt.emulator.switches import switch
from apps.integrations.lockt.emulator.values import as_int, as_text, blank, date_ok, email_ok, numeric, phone_ok


@dataclass
class Item:
    """One submitted object being validated."""

    instance: m.Instance
    obj: dict
    batch: dict  # values claimed by earlier objects of the batch, by key
    target: object = None  # the record an UPDATE changes (excluded from "already exists")
    sub: str = ""  # INSERT / UPDATE for POST /user
    echo: dict | None = None  # the object as submitted, when `obj` is a normalized copy
    claims: list = field(default_factory=list)


Check = Callable[[Item, str], str | None]


@dataclass(frozen=True)
class Rule:
    row: str
    endpoint: str
    method: str
    sub: str
    field: str  # as printed in §5
    validation: str  # as printed in §5
    check: Check | None
    key: str = ""  # the JSON key checked, when it differs from `field`

    @property
    def json_key(self) -> str:
        return self.key or self.field


# -- checks -----------------------------------------------------------------------------------

PRIORITY: dict[Check, int] = {}


def priority(rank: int):
    def mark(fn):
        PRIORITY[fn] = rank
        return fn

    return mark


def _value(item: Item, key: str):
    return item.obj.get(key)


@priority(0)
def missing(item: Item, key: str):
    value = _value(item, key)
    if blank(value) or (isinstance(value, list | dict) and not value):
        return f"Missing or blank {key} found"
    return None


@priority(1)
def non_numeric(item: Item, key: str):
    value = _value(item, key)
    if blank(value) or (key == "card_num" and as_int(value) == -1 and item.target is not None):
        return None  # card_num -1 is the "remove cards" signal on updates (L3338)
    if key == "id":
        return None if as_int(value) is not None else f"Non-Numeric {key} found: {as_text(value)}"
    return None if numeric(value) else f"Non-Numeric {key} found: {as_text(value)}"


@priority(2)
def email_format(item: Item, key: str):
    value = _value(item, key)
    if blank(value) or email_ok(value):
        return None
    return f"Invalid email address found: {as_text(value)}"


@priority(2)
def phone_format(item: Item, key: str):
    value = _value(item, key)
    if blank(value) or phone_ok(value):
        return None
    return f"Invalid phone number found: {as_text(value)}"


@priority(2)
def date_format(item: Item, key: str):
    value = _value(item, key)
    if date_ok(value):
        return None
    return f"Invalid {key} date format found: {as_text(value)}"


def _length(limit_name: str):
    @priority(3)
    def check(item: Item, key: str):
        value = _value(item, key)
        if blank(value) or (key == "card_num" and as_int(value) == -1):
            return None
        if len(as_text(value)) > switch(item.instance, limit_name):
            return f"Invalid {key} length found: {as_text(value)}"
        return None

    return check


card_length = _length("card_num_max_len")
pin_length = _length("pin_max_len")


def _ids(value) -> list:
    """Ids of an array of `{"id": n}` items (`unid` accepted, §9.4 step 6)."""
    if not isinstance(value, list):
        return []
    return [item.get("id", item.get("unid")) if isinstance(item, dict) else item for item in value]


def _valid_ids(model, label: str, *, listed: bool, schedule: bool = False):
    @priority(4)
    def check(item: Item, key: str):
        value = _value(item, key)
        if listed:
            if value is None or (isinstance(value, dict) and not value):
                return None  # absent, or the "empty object" of L3342
            if not isinstance(value, list):
                return None if schedule else f"Invalid {label} id found: {as_text(value)}"
            raw = [d.get("schedule_id") if isinstance(d, dict) else None for d in value] if schedule else _ids(value)
            raw = [r for r in raw if not (schedule and blank(r))]
        else:
            if blank(value):
                return None
            raw = [value]
        wanted = [as_int(r) for r in raw]
        found = set(
            model.objects.filter(instance=item.instance, rid__in=[w for w in wanted if w is not None]).values_list(
                "rid", flat=True
            )
        )
        bad = [as_text(r) for r, w in zip(raw, wanted, strict=True) if w is None or w not in found]
        return f"Invalid {label} id found: {', '.join(bad)}" if bad else None

    return check


door_ids_valid = _valid_ids(m.Door, "door", listed=True)
schedule_ids_valid = _valid_ids(m.Schedule, "schedule", listed=True, schedule=True)
level_ids_valid = _valid_ids(m.AccessLevel, "access level", listed=True)
locationtype_valid = _valid_ids(m.LocationType, "location type", listed=False)
user_id_valid = _valid_ids(m.User, "user", listed=False)
credential_id_valid = _valid_ids(m.Credential, "credential", listed=False)


@priority(4)
def door_id_valid(item: Item, key: str):
    """door DELETE "Id is valid" (L257), with the §7 L337 false-invalid switch."""
    value = _value(item, key)
    if blank(value):
        return None
    rid = as_int(value)
    exists = rid is not None and m.Door.objects.filter(instance=item.instance, rid=rid).exists()
    rate = float(switch(item.instance, "fault_door_delete_false_invalid_rate") or 0)
    if exists and rate > 0 and random.random() < rate:  # noqa: S311 - emulating a flaky remote
        exists = False
    return None if exists else f"Invalid door id found: {as_text(value)}"


def _fob_flag(expect_fob: bool):
    @priority(5)
    def check(item: Item, key: str):
        value = _value(item, key)
        rid = as_int(value)
        if blank(value) or rid is None:
            return None
        cred = m.Credential.objects.filter(instance=item.instance, rid=rid).only("fob").first()
        if expect_fob and (cred is None or not cred.fob):
            return f"Invalid fob id found, credential is not a Fob: {as_text(value)}"
        if not expect_fob and cred is not None and cred.fob:
            return f"Invalid credential id found, credential is a Fob: {as_text(value)}"
        return None

    return check


is_fob = _fob_flag(True)
is_not_fob = _fob_flag(False)


def _exists(model, column: str, label: str, *, batch_key: str, in_batch: Callable[[Item], bool] | None = None):
    """ "Already exists in system": against stored records (minus the one being updated) and,
    unless a §9.9 switch says otherwise, against earlier objects of the same batch."""

    @priority(6)
    def check(item: Item, key: str):
        value = _value(item, key)
        if blank(value):
            return None
        text = as_text(value)
        lookup = {f"{column}__iexact" if column == "email" else column: text}
        qs = model.objects.filter(instance=item.instance, **lookup)
        if model is m.Credential and batch_key == "fob.name":
            qs = qs.filter(fob=True)
        if item.target is not None and isinstance(item.target, model):
            qs = qs.exclude(pk=item.target.pk)
        norm = text.lower() if column == "email" else text
        check_batch = in_batch(item) if in_batch else True
        if qs.exists() or (check_batch and norm in item.batch.get(batch_key, set())):
            return f"{label} Already Exists: {text}"
        item.claims.append((batch_key, norm))
        return None

    return check


door_name_exists = _exists(
    m.Door,
    "name",
    "Door Name",
    batch_key="door.name",
    in_batch=lambda item: not switch(item.instance, "compat_door_post_no_batch_name_check"),
)
level_name_exists = _exists(m.AccessLevel, "name", "Access Level Name", batch_key="accesslevel.name")
location_name_exists = _exists(m.Location, "name", "Location Name", batch_key="location.name")
fob_name_exists = _exists(m.Credential, "name", "Fob Name", batch_key="fob.name")
card_exists = _exists(m.Credential, "card_num", "Card Number", batch_key="card_num")
email_exists = _exists(m.User, "email", "Email Address", batch_key="user.email")
id_num_exists = _exists(m.User, "id_num", "ID Number", batch_key="user.id_num")


@priority(7)
def doors_not_duplicate(item: Item, key: str):
    """accesslevel POST "Door ID is not duplicate" (L248): within the object, or across the batch
    under the §7 L336 switch (on by default)."""
    ids = [as_int(i) for i in _ids(_value(item, key))]
    across = switch(item.instance, "compat_accesslevel_dup_door_across_batch")
    seen = set(item.batch.get("accesslevel.doors", set())) if across else set()
    dups = []
    for rid in ids:
        if rid in seen and rid not in dups:
            dups.append(rid)
        seen.add(rid)
    item.batch.setdefault("accesslevel.doors", set()).update(i for i in ids if i is not None)
    return f"Duplicate door id found: {', '.join(str(d) for d in dups)}" if dups else None


@priority(7)
def levels_not_duplicate(item: Item, key: str):
    ids = [as_int(i) for i in _ids(_value(item, key))]
    dups = sorted({i for i in ids if ids.count(i) > 1 and i is not None})
    return f"Duplicate Assigned Access Levels found: {', '.join(str(d) for d in dups)}" if dups else None


# -- the table ---------------------------------------------------------------------------------

R = Rule
_USER_COMMON = [
    # (field as printed, validation, check, key)
    ("access_effective", "Valid date format", date_format, ""),
    ("access_expires", "Valid date format", date_format, ""),
    ("access_levels", "Duplicate Assigned Access Levels", levels_not_duplicate, "accesslevels"),
    ("access_levels", "Id is valid", level_ids_valid, "accesslevels"),
]

RULES: tuple[Rule, ...] = (
    R("L248", "accesslevel", "POST", "", "doors", "Door ID is not duplicate", doors_not_duplicate),
    R("L249", "accesslevel", "POST", "", "doors", "Schedule ID is valid", schedule_ids_valid),
    R("L250", "accesslevel", "POST", "", "name", "Already exists in system", level_name_exists),
    R("L251", "accesslevel", "POST", "", "name", "Missing or blank", missing),
    R("L252", "accesslevel", "POST", "", "id doors", "Door ID is valid", door_ids_valid, "doors"),
    R("L253", "credential", "DELETE", "", "id", "Id is not a Fob", is_not_fob),
    R("L254", "credential", "DELETE", "", "id", "Id is valid", credential_id_valid),
    R("L255", "credential", "DELETE", "", "id", "Missing or blank", missing),
    R("L256", "credential", "DELETE", "", "id", "Non-Numeric", non_numeric),
    R("L257", "door", "DELETE", "", "", "Id is valid", door_id_valid, "id"),
    R("L258", "door", "DELETE", "", "id", "Missing or blank", missing),
    # L259 (door GET user_id) is a query-string check: handlers/doors.py `doors_of_user`.
    R("L259", "door", "GET", "", "user_id", "user_id is valid, numeric and not blank", None),
    R("L260", "door", "POST", "", "name", "Already exists in system", door_name_exists),
    R("L261", "door", "POST", "", "name", "Missing or blank", missing),
    R("L262", "fob", "DELETE", "", "id", "Id is a Fob", is_fob),
    R("L263", "fob", "DELETE", "", "id", "Missing or blank", missing),
    R("L264", "fob", "DELETE", "", "id", "Non-Numeric", non_numeric),
    R("L265", "fob", "POST", "", "access_effective", "Valid date format", date_format),
    R("L266", "fob", "POST", "", "access_expires", "Valid date format", date_format),
    R("L267", "fob", "POST", "", "card_num", "Already exists in system", card_exists),
    R("L268", "fob", "POST", "", "card_num", "Length versus system limit", card_length),
    R("L269", "fob", "POST", "", "card_num", "Non-Numeric", non_numeric),
    R("L270", "fob", "POST", "", "id_num", "Missing or blank", missing),
    R("L271", "fob", "POST", "", "name", "Already exists in system", fob_name_exists),
    R("L272", "fob", "POST", "", "name", "Already exists in system", fob_name_exists),  # printed twice
    R("L273", "fob", "POST", "", "name", "Missing or blank", missing),
    R("L274", "fob", "PUT", "", "access_effective", "Valid date format", date_format),
    R("L275", "fob", "PUT", "", "access_expires", "Valid date format", date_format),
    R("L276", "fob", "PUT", "", "card_num", "Already exists in system", card_exists),
    R("L277", "fob", "PUT", "", "card_num", "Length versus system limit", card_length),
    R("L278", "fob", "PUT", "", "card_num", "Non-Numeric", non_numeric),
    R("L279", "fob", "PUT", "", "id_num", "Missing or blank", missing),
    R("L280", "fob", "PUT", "", "name", "Already exists in system", fob_name_exists),
    R("L281", "fob", "PUT", "", "name", "Already exists in system", fob_name_exists),  # printed twice
    R("L282", "fob", "PUT", "", "name", "Missing or blank", missing),
    R("L283", "location", "POST", "", "locationtype", "Id is valid", locationtype_valid),
    R("L284", "location", "POST", "", "locationtype", "Missing or blank", missing),
    R("L285", "location", "POST", "", "name", "Already exists in system", location_name_exists),
    R("L286", "location", "POST", "", "name", "Missing or blank", missing),
    R("L287", "user", "DELETE", "", "id", "Id is valid", user_id_valid),
    R("L288", "user", "DELETE", "", "id", "Missing or blank", missing),
    R("L289", "user", "DELETE", "", "id", "Non-Numeric", non_numeric),
    R("L290", "user", "POST", "INSERT", *_USER_COMMON[0]),
    R("L291", "user", "POST", "INSERT", *_USER_COMMON[1]),
    R("L292", "user", "POST", "INSERT", *_USER_COMMON[2]),
    R("L293", "user", "POST", "INSERT", *_USER_COMMON[3]),
    R("L294", "user", "POST", "INSERT", "card_num", "Already exists in system", card_exists),
    R("L295", "user", "POST", "INSERT", "card_num", "Length versus system limit", card_length),
    R("L296", "user", "POST", "INSERT", "card_num", "Non-Numeric", non_numeric),
    R("L297", "user", "POST", "INSERT", "email", "Already exists in system", email_exists),
    R("L298", "user", "POST", "INSERT", "email", "Missing or blank", missing),
    R("L299", "user", "POST", "INSERT", "email", "Proper email format", email_format),
    R("L300", "user", "POST", "INSERT", "first_name", "Missing or blank", missing),
    R("L301", "user", "POST", "INSERT", "id", "Missing or blank", missing),
    R("L302", "user", "POST", "INSERT", "id", "Non-Numeric", non_numeric),
    R("L303", "user", "POST", "INSERT", "id_num", "Already exists in system", id_num_exists),
    R("L304", "user", "POST", "INSERT", "id_num", "Missing or blank", missing),
    R("L305", "user", "POST", "INSERT", "last_name", "Missing or blank", missing),
    R("L306", "user", "POST", "INSERT", "phone", "Missing or blank", missing),
    R("L307", "user", "POST", "INSERT", "phone", "Proper phone format", phone_format),
    R("L308", "user", "POST", "INSERT", "pin", "Length versus system limit", pin_length),
    R("L309", "user", "POST", "INSERT", "pin", "Missing or blank", missing),
    R("L310", "user", "POST", "INSERT", "pin", "Non-Numeric", non_numeric),
    R("L311", "user", "POST", "UPDATE", *_USER_COMMON[0]),
    R("L312", "user", "POST", "UPDATE", *_USER_COMMON[1]),
    R("L313", "user", "POST", "UPDATE", *_USER_COMMON[2]),
    R("L314", "user", "POST", "UPDATE", *_USER_COMMON[3]),
    R("L315", "user", "POST", "UPDATE", "card_num", "Length versus system limit", card_length),
    R("L316", "user", "POST", "UPDATE", "card_num", "Non-Numeric", non_numeric),
    R("L317", "user", "POST", "UPDATE", "card_num", "Used for update determination", None),
    R("L318", "user", "POST", "UPDATE", "email", "Already exists in system", email_exists),
    R("L319", "user", "POST", "UPDATE", "email", "Missing or blank", missing),
    R("L320", "user", "POST", "UPDATE", "email", "Proper email format", email_format),
    R("L321", "user", "POST", "UPDATE", "first_name", "Missing or blank", missing),
    R("L322", "user", "POST", "UPDATE", "id", "Missing or blank", missing),
    R("L323", "user", "POST", "UPDATE", "id", "Non-Numeric", non_numeric),
    R("L324", "user", "POST", "UPDATE", "id", "Used for update determination", None),
    R("L325", "user", "POST", "UPDATE", "id_num", "Missing or blank", missing),
    R("L326", "user", "POST", "UPDATE", "id_num", "Used for update determination", None),
    R("L327", "user", "POST", "UPDATE", "last_name", "Missing or blank", missing),
    R("L328", "user", "POST", "UPDATE", "phone", "Missing or blank", missing),
    R("L329", "user", "POST", "UPDATE", "phone", "Proper phone format", phone_format),
    R("L330", "user", "POST", "UPDATE", "pin", "Length versus system limit", pin_length),
    R("L331", "user", "POST", "UPDATE", "pin", "Missing or blank", missing),
    R("L332", "user", "POST", "UPDATE", "pin", "Non-Numeric", non_numeric),
)

assert len(RULES) == 85  # §5: "The table has 85 rows."

# Checks the dump implies but §5 does not list ([Inference], cited where they are used).
EXTRA: dict[tuple[str, str, str], tuple[tuple[str, Check], ...]] = {
    ("accesslevel", "DELETE", ""): (
        ("id", missing),
        ("id", non_numeric),
        ("id", _valid_ids(m.AccessLevel, "access level", listed=False)),
    ),
    ("door", "DELETE", ""): (("id", non_numeric),),
    # §9.4 step 4: an id_num that belongs to another user is refused on update too.
    ("user", "POST", "UPDATE"): (("id_num", id_num_exists),),
}


def rules_for(endpoint: str, method: str, sub: str = "") -> list[tuple[str, Check]]:
    pairs = [
        (r.json_key, r.check) for r in RULES if (r.endpoint, r.method, r.sub) == (endpoint, method, sub) and r.check
    ]
    pairs += list(EXTRA.get((endpoint, method, sub), ()))
    order = {}
    for key, _ in pairs:
        order.setdefault(key, len(order))
    return sorted(pairs, key=lambda p: (order[p[0]], PRIORITY[p[1]]))


def validate(item: Item, endpoint: str, method: str, sub: str = "", *, present_only: bool = False) -> list[str]:
    """Messages for one object (empty = valid). Claims its unique values for the rest of the
    batch only when it is valid."""
    messages: list[str] = []
    failed: set[str] = set()
    for key, check in rules_for(endpoint, method, sub):
        if key in failed or (present_only and key not in item.obj):
            continue
        message = check(item, key)
        if message and message not in messages:
            messages.append(message)
            failed.add(key)
    if not messages:
        for batch_key, value in item.claims:
            item.batch.setdefault(batch_key, set()).add(value)
    item.claims.clear()
    return messages
