"""Per-instance switches (spec §9.9 known-issue compatibility, and the other [Inference] choices
that §9 asks to keep settable). Defaults reproduce release 1.1.0 as documented."""

DEFAULTS = {
    # §7 L339–L340: GET /user?id= and ?id_num= (blank) return the full list; off → 400.
    "compat_blank_user_selector_returns_all": True,
    # §7 L336: accesslevel POST "Door ID is not duplicate" checked across the whole batch.
    "compat_accesslevel_dup_door_across_batch": True,
    # §7 L338: door POST names not checked for duplication within the batch.
    "compat_door_post_no_batch_name_check": True,
    # §7 L337: probability that a valid door id is reported invalid on DELETE /door.
    "fault_door_delete_false_invalid_rate": 0.0,
    # A50 / L920: the access_effective message quotes the access_expires value, as the example does.
    "delegate_error_quotes_expires": True,
    # §9.4: "id" (L3336/L3337) or "legacy" (match id_num/email/card_num, L3349).
    "user_update_match": "id",
    # §2.2 / A1–A8: accept /users, /accesslevels, /delegates, /doors, a trailing slash and ?idnum=.
    "accept_url_aliases": True,
    # §9.8: Pending Release endpoints (/fob?id_num, /anonymize) answer; off → 404.
    "enable_pending_endpoints": True,
    # §2.4: a write without Content-Type application/json is refused with the parse message.
    "strict_content_type": True,
    # §5 "Length versus system limit" (A57): per-instance limits.
    "card_num_max_len": 10,
    "pin_max_len": 6,
    # A28: GET /accesslevel doors as the example `{id, name}`; true adds each door's
    # `schedule_id`, as the definition ("Door ID and Schedule ID only") says. The sync needs it to
    # grant a door on its schedule; without it the sync fails closed (docs/INTEGRATIONS.md).
    "accesslevel_doors_schedule_id": False,
    # §9.2: events served by GET /events (default 5000, L210).
    "event_cache_size": 5000,
}


def switch(instance, name):
    return instance.switches.get(name, DEFAULTS[name])


def effective(instance) -> dict:
    return {**DEFAULTS, **{k: v for k, v in instance.switches.items() if k in DEFAULTS}}
