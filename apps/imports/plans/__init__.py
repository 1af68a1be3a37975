"""The dry run: parsed rows against a property's current data → the plan (reads only).

A plan is a list of JSON operations, one per good row, in file order, then the removals:

- `{"op": "create", "row", "key", "values"}`
- `{"op": "update", "row", "key", "id", "changes": {column: [before, after]}}`
- `{"op": "unchanged", "row", "key", "id"}`
- `{"op": "remove", "key", "id", ...}` (mode `sync`: what the file leaves out)

Each planner also returns row errors for what needs the database to see (an unknown group, a
parent area that does not exist, a cycle, a row matching two objects). Apply
(services.import_run_apply) carries the plan out and, before it starts, builds it again:
if the two differ, the data changed since validation and apply is refused.
"""

from __future__ import annotations

from apps.core.principal import Principal
from apps.imports.parsers import Parsed, RowError
from apps.imports.plans.areas import _plan_areas
from apps.imports.plans.common import USER_FIELDS, AreaIndex, external_source, principal_dump, principal_load
from apps.imports.plans.grants import _plan_grants
from apps.imports.plans.people import _plan_groups, _plan_memberships, _plan_users

__all__ = [
    "USER_FIELDS",
    "AreaIndex",
    "external_source",
    "principal_dump",
    "principal_load",
    "plan_build",
    "plan_summary",
]

PLANNERS = {
    "users": _plan_users,
    "groups": _plan_groups,
    "memberships": _plan_memberships,
    "areas": _plan_areas,
    "grants": _plan_grants,
}


SYNC_WITH_ERRORS = "Sync mode removes nothing while the file has errors: fix them to see the removals."


def plan_build(*, prop, parsed: Parsed, mode: str, principal: Principal | None = None) -> tuple[list, list]:
    """(operations, row errors) for `parsed` against the property as it is now."""
    ops, errors = PLANNERS[parsed.kind](prop, parsed.rows, mode, principal)
    if mode == "sync" and (parsed.errors or errors) and any(op["op"] == "remove" for op in ops):
        # A bad row may name something that would otherwise look left out: remove nothing.
        ops = [op for op in ops if op["op"] != "remove"]
        errors.append(RowError(0, "", "", SYNC_WITH_ERRORS).as_dict())
    return ops, errors


def plan_summary(ops: list[dict]) -> dict:
    counts = {"create": 0, "update": 0, "unchanged": 0, "remove": 0}
    for op in ops:
        counts[op["op"]] += 1
    return counts
