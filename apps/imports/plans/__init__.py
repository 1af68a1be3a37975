"""The dry run: parsed rows against a property's current data → the plan (reads only).

A plan is a sequence of JSON operations, one per good row, in file order, then the removals
(`plan_stream` yields it in lists, a chunk of rows at a time; the run stores each operation
as an ImportOperation row):

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

from collections.abc import Iterable, Iterator

from apps.core.principal import Principal
from apps.imports.parsers import Parsed, Row, RowError
from apps.imports.plans.areas import _plan_areas
from apps.imports.plans.common import USER_FIELDS, AreaIndex, external_source, principal_dump, principal_load
from apps.imports.plans.grants import _plan_grants
from apps.imports.plans.people import CHUNK, MembershipsPlanner, UsersPlanner, _plan_groups

__all__ = [
    "USER_FIELDS",
    "AreaIndex",
    "external_source",
    "principal_dump",
    "principal_load",
    "plan_stream",
]

# Kinds whose files may be large (people): planned a chunk of rows at a time.
STREAMED = {"users": UsersPlanner, "memberships": MembershipsPlanner}
# Kinds whose files are small and whose rows depend on each other (an area's parent may be a
# later row): planned from all their rows at once.
PLANNERS = {"groups": _plan_groups, "areas": _plan_areas, "grants": _plan_grants}


SYNC_WITH_ERRORS = "Sync mode removes nothing while the file has errors: fix them to see the removals."


def plan_stream(
    *, prop, parsed: Parsed, chunks: Iterable[list[Row]], mode: str, errors: list, principal: Principal | None = None
) -> Iterator[list[dict]]:
    """The plan of `chunks` (the parser's lists of good rows) against the property as it is
    now, in lists of operations: file order, then the removals. Row errors only the database
    can see are appended to `errors` as they are found; once the last list is out, `errors`
    and `parsed.errors` are complete. Users and memberships hold one chunk at a time."""
    if parsed.kind in STREAMED:
        planner = STREAMED[parsed.kind](prop, mode, principal)
        for rows in chunks:
            yield planner.rows(rows, errors)
        removals = planner.removals()
    else:
        ops, found = PLANNERS[parsed.kind](prop, [row for rows in chunks for row in rows], mode, principal)
        errors.extend(found)
        yield [op for op in ops if op["op"] != "remove"]
        removals = [op for op in ops if op["op"] == "remove"]
    if mode == "sync" and removals and (parsed.errors or errors):
        # A bad row may name something that would otherwise look left out: remove nothing.
        errors.append(RowError(0, "", "", SYNC_WITH_ERRORS).as_dict())
        removals = []
    for start in range(0, len(removals), CHUNK):
        yield removals[start : start + CHUNK]
