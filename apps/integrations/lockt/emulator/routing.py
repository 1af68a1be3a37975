"""The routing table (spec §4.5): method + path + which query key is present → endpoint.
For each (method, path) the selectors are tried in order; the first key present in the query
string wins (a bare flag such as `?missingcreds` counts as present); `None` is the fallback."""

from apps.integrations.lockt.emulator.handlers import accesslevels, credentials, doors, events, places, system, users

# (method, path): [(selector key or None, endpoint id, handler)]
ROUTES = {
    ("GET", "accesslevel"): [("name", "F03", accesslevels.level_by_name), (None, "F02", accesslevels.list_levels)],
    ("POST", "accesslevel"): [(None, "F04", accesslevels.post_levels)],
    ("DELETE", "accesslevel"): [(None, "F01", accesslevels.delete_levels)],
    ("GET", "credential"): [
        ("id", "F09", credentials.credential_by_id),
        ("user_id", "F06", credentials.credentials_of_user),
        ("card_num", "F08", credentials.credential_by_card),
        (None, "F07", credentials.list_credentials),
    ],
    ("DELETE", "credential"): [(None, "F05", credentials.delete_credentials)],
    ("GET", "credentialsummary"): [(None, "F10", credentials.credential_summary)],
    ("GET", "delegate"): [(None, "F11", accesslevels.list_delegates)],
    ("POST", "delegate"): [("purge", "F13", accesslevels.purge_delegates), (None, "F12", accesslevels.post_delegate)],
    ("GET", "door"): [
        ("user_id", "F16", doors.doors_of_user),
        ("id_num", "F15", doors.doors_of_id_num),
        (None, "F17", doors.list_doors),
    ],
    ("POST", "door"): [(None, "F18", doors.post_doors)],
    ("DELETE", "door"): [(None, "F14", doors.delete_doors)],
    ("GET", "doorstate"): [(None, "F19", doors.door_states)],
    ("GET", "events"): [("id", "F21", events.events_after), (None, "F20", events.list_events)],
    ("GET", "fob"): [
        ("id", "F26", credentials.fob_by_id),
        ("id_num", "F24", credentials.fob_by_id_num),
        ("card_num", "F23", credentials.fob_by_card),
        ("name", "F25", credentials.fob_by_name),
        (None, "F27", credentials.list_fobs),
    ],
    ("POST", "fob"): [(None, "F28", credentials.post_fobs)],
    ("PUT", "fob"): [(None, "F29", credentials.put_fobs)],
    ("DELETE", "fob"): [(None, "F22", credentials.delete_fobs)],
    ("GET", "location"): [(None, "F30", places.list_locations)],
    ("POST", "location"): [(None, "F31", places.post_locations)],
    ("GET", "locationtype"): [(None, "F32", places.list_location_types)],
    ("GET", "schedule"): [(None, "F33", places.list_schedules)],
    ("GET", "user"): [
        ("id", "F39", users.user_by_id),
        ("id_num", "F40", users.user_by_id_num),
        ("idnum", "F40", users.user_by_id_num),  # alias (A8), only with accept_url_aliases
        ("missingcreds", "F36", users.users_missing_credentials),
        ("installers", "F38", users.users_installers),
        ("privileged", "F37", users.users_privileged),
        (None, "F35", users.list_users),
    ],
    ("POST", "user"): [(None, "F41", users.post_users)],
    ("PUT", "user"): [(None, "F42", users.put_user)],
    ("DELETE", "user"): [(None, "F34", users.delete_users)],
    ("GET", "about"): [(None, "S01", system.about)],
    ("POST", "anonymize"): [(None, "S02", users.anonymize)],
    ("GET", "maintenance"): [(None, "S03", system.maintenance)],
    ("GET", "object"): [
        ("listtypes", "S04", system.object_types),
        ("type", "S05", system.object_type),
        (None, "", system.object_without_selector),
    ],
    ("GET", "ping"): [(None, "S06", system.ping)],
    ("GET", "settings"): [(None, "S07", system.settings)],
    ("GET", "site"): [(None, "S08", system.site)],
}

# Tolerant aliases (§2.2 [Inference], switch accept_url_aliases).
ALIASES = {"users": "user", "accesslevels": "accesslevel", "delegates": "delegate", "doors": "door"}
PENDING = {"S02", "F24"}  # Pending Release (switch enable_pending_endpoints)


def resolve(method: str, path: str, query, *, aliases: bool):
    """(endpoint id, handler) or None for an unknown path/method (→ 404, §4.5)."""
    path = path.strip("/") if aliases else path
    if aliases:
        path = ALIASES.get(path, path)
    for selector, endpoint, handler in ROUTES.get((method, path), []):
        if selector == "idnum" and not aliases:
            continue
        if selector is None or selector in query:
            return endpoint, handler
    return None


def endpoint_ids() -> set[str]:
    return {endpoint for rows in ROUTES.values() for _, endpoint, _ in rows if endpoint}


assert len(endpoint_ids()) == 50  # §4.4: 42 functional + 8 system endpoints
