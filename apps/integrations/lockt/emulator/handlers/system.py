"""System endpoints S01–S08 (spec §6.10). Bodies the dump does not document are [Inference]."""

from apps.integrations.lockt.emulator import envelopes
from apps.integrations.lockt.emulator.pipeline import Ctx

ABOUT = {  # S01, verbatim L379–L387
    "version": "1.1.0",
    "release_date": "Jul 10, 2022",
    "release_notes": "July 2022 Release - Enhancements, bug fixes, documentation updates",
    "release_details": "Correction of bugs in relay calls. \r\nExpanded validation of user supplied values across all "
    "endpoints.\r\nAddition of endpoints: /about, /maintenance, /location, /locationtype, /object, /user?missingcreds, "
    "/user?installers, /user?privileged\r\n \r\n",
}

_DATES = [
    ("access_effective", "date-time", "The date/time when access is enabled for this {}."),
    ("access_expires", "date-time", "The date/time when access is disabled for this {}."),
]
_USER = [
    ("id", "integer", "The unique, system assigned id of the user"),
    ("id_num", "string", "Unique id number to identify the user. Supplied by external system."),
    ("first_name", "string", "The first name of the user."),
    ("last_name", "string", "The last name of the user."),
    ("card_num", "string", "The card number assigned to the user."),
]

# S05: object type → its object definition (§6.10 S05 table; descriptions as printed in §6).
OBJECT_TYPES: dict[str, list[tuple[str, str, str]]] = {
    "accesslevel": [
        ("id", "integer", "The unique, system assigned id of the access level."),
        ("name", "string", "The name of the access level."),
        ("doors", "array", "An array of abbreviated Door objects containing Door ID and Schedule ID only."),
    ],
    "accesslevel_create": [
        ("name", "string", "The name of the access level."),
        ("doors", "array", "An array of abbreviated Door objects containing Door ID and Schedule ID only."),
    ],
    "credential": [
        ("id", "integer", "The unique, system assigned id of the credential."),
        ("card_num", "string", "The card number assigned to the credential."),
        ("name", "string", "The name of the credential."),
        ("credential_key", "string", "The credential registration key assigned to the user."),
        ("claim_status", "string", "Indicates if credential is claimed."),
        ("user", "object", "Abbreviated object for the user to which the credential is assigned."),
    ],
    "door": [
        ("id", "integer", "The unique, system assigned id of the door."),
        ("type", "string", "Text description of the door type"),
        ("name", "string", "The name of the door"),
        ("location", "string", "The location of the door."),
        ("enabled", "boolean", "Indicates whether the door is currently enabled or disabled."),
        ("controller", "string", "The name of the controller to which the door is attached."),
    ],
    "door_create": [("name", "text", "The name of the door")],
    "doorstate": [
        ("id", "integer", "The unique, system assigned id of the door."),
        ("name", "string", "The name of the door"),
        ("battery_level", "decimal", "The battery level of the door expressed as a decimal, if applicable."),
    ],
    "event": [
        ("id", "integer", "The unique, system assigned id of the event"),
        ("device", "string", "The name device causing the event"),
        ("code", "integer", "The integer representation of the event code"),
        ("code_text", "string", "The text rerpresentation of the event code"),
        ("subcode", "integer", "The integer representation of the event sub-code"),
        ("subcode_text", "string", "The text rerpresentation of the event sub-code"),
        ("schedule", "string", "The name of the schedule, if applicable"),
        ("controller", "string", "The name of the controller, if applicable"),
        ("location", "string", "The name of the location where the device is assigned, if applicable"),
        ("card_num", "string", "The card number assigned to the user"),
        ("user", "string", "The name of the user"),
        ("category", "integer", "The integer representation of the event category"),
        ("category_text", "string", "The text representation of the event category"),
        ("event_time", "date-time", "The event timestamp received from the device"),
        ("db_time", "date-time", "The timestamp when the event was recorded in the system"),
    ],
    "fob": [
        ("id_num", "text", "Unique id number to identify the fob. Supplied by external system."),
        ("name", "string", "The name of the fob."),
        ("card_num", "string", "The card number assigned to the fob."),
        ("credential_key", "string", "The credential registration key assigned to the fob."),
        ("enabled", "boolean", "Indicates whether the fob is enabled."),
        *[(p, t, d.format("fob")) for p, t, d in _DATES],
        ("accesslevels", "array", "An array of access level assignment objects associated with this fobs."),
    ],
    "location": [
        ("id", "integer", "The unique, system assigned id of the location."),
        ("name", "string", "The name of the location"),
        ("type", "string", "The type of the location."),
        ("enabled", "boolean", "Indicates whether the location is currently enabled or disabled."),
    ],
    "locationtype": [
        ("id", "integer", "The unique, system assigned id of the location type."),
        ("name", "string", "The name of the location type"),
    ],
    "maintenance": [],
    "schedule": [
        ("id", "integer", "The unique, system assigned id of the schedule."),
        ("name", "string", "The name of the schedule."),
        *[
            (f"d{i}", "bit", f"Will be set to 1 if the schedule includes day {i} (typically {day}).")
            for i, day in enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
        ],
        ("start", "time", "The time the schedule starts in format HH:MM:SS"),
        ("stop", "time", "The time the schedule stops in format HH:MM:SS"),
    ],
    "user": [
        *_USER,
        ("credential_key", "string", "The credential registration key assigned to the user."),
        ("email", "string", "The email address associated with the user."),
        ("phone", "string", "The phone number associated with the user."),
        *[(p, t, d.format("user")) for p, t, d in _DATES],
        ("accesslevels", "array", "An array of access level assignment objects associated with this user."),
    ],
    "user_create": [
        *_USER,
        ("email", "string", "The email address associated with the user."),
        ("phone", "string", "The phone number associated with the user."),
        ("pin", "integer", "The pin number associated with the user."),
        *[(p, t, d.format("user")) for p, t, d in _DATES],
        ("enabled", "boolean", "Flag to enable / disable the user."),
        ("accesslevels", "array", "An array of access level assignment objects associated with this users."),
    ],
    "user_delete": [("id", "integer", "The unique, system assigned id of the user")],
}


def about(ctx: Ctx) -> envelopes.Reply:  # S01: a single object
    return envelopes.read(dict(ABOUT))


def maintenance(ctx: Ctx) -> envelopes.Reply:  # S03: nothing scheduled [Inference]
    return envelopes.read([])


def object_types(ctx: Ctx) -> envelopes.Reply:  # S04
    return envelopes.read([{"object": name} for name in OBJECT_TYPES])


def object_type(ctx: Ctx) -> envelopes.Reply:  # S05: unknown type → 400 [Inference]
    name = ctx.query.get("type", "")
    if name not in OBJECT_TYPES:
        return envelopes.get_error(f"Invalid type found: {name}")
    return envelopes.read([{"property": p, "datatype": t, "description": d} for p, t, d in OBJECT_TYPES[name]])


def object_without_selector(ctx: Ctx) -> envelopes.Reply:  # §4.5 [Inference]
    return envelopes.get_error("Missing or blank type found")


def ping(ctx: Ctx) -> envelopes.Reply:  # S06 (made up, §6.10)
    return envelopes.read({"ping": "pong"})


def settings(ctx: Ctx) -> envelopes.Reply:  # S07 (made up): the batch limit
    return envelopes.read({"batch_size": ctx.instance.batch_limit})


def site(ctx: Ctx) -> envelopes.Reply:  # S08 (made up)
    return envelopes.read({"name": "Lockt SecureAccess emulator"})
