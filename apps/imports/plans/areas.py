"""Planning areas by name path."""

from __future__ import annotations

from apps.areas.models import Area
from apps.imports.parsers import Row, path_join
from apps.imports.plans.common import (
    AreaIndex,
    _error,
    _op,
)

# --- areas -------------------------------------------------------------------------------


def _plan_areas(prop, rows: list[Row], mode: str, principal) -> tuple[list, list]:
    """Areas match by name within the property (a name twice in the property is an error for
    its row). The parent path's last name names the parent, the names before it must be that
    parent's ancestors in the tree as it will be after the import; a move that would put an
    area under itself is a cycle."""
    ops, errors = [], []
    index = AreaIndex(prop)
    areas = index.areas
    live = {a.pk: a for a in Area.objects.filter(pk__in=areas).only("id", "area_type", "display_name", "parent_id")}
    good: list[tuple[Row, object]] = []  # (row, existing area id or None)
    for row in rows:
        found = index.by_name.get(row.values["name"].casefold(), [])
        if len(found) > 1:
            _error(errors, row, "name", f"matches {len(found)} areas in this property")
            continue
        parent = row.values.get("parent") or ()
        parents = index.by_name.get(parent[-1].casefold(), []) if parent else []
        if len(parents) > 1:
            _error(errors, row, "parent", f"the parent's name matches {len(parents)} areas in this property")
            continue
        if found and live[found[0]].area_type != row.values["type"]:
            _error(
                errors, row, "type", f"an area's type is set when it is made (this one is {live[found[0]].area_type})"
            )
            continue
        good.append((row, found[0] if found else None))
    # The tree after the import, by folded name: name → parent name (None: top level).
    parent_of: dict[str, str | None] = {}
    display: dict[str, str] = {}
    for area in areas.values():
        parent = areas.get(area.parent_id)
        parent_of[area.display_name.casefold()] = parent.display_name.casefold() if parent else None
        display[area.display_name.casefold()] = area.display_name
    for row, _ in good:
        parent = row.values.get("parent")
        parent_of[row.values["name"].casefold()] = parent[-1].casefold() if parent else None
        display[row.values["name"].casefold()] = row.values["name"]
    # Rows that would put an area inside itself, then rows whose parent is nowhere (also when
    # its own row was refused), leave the tree as it is now.
    original = {
        a.display_name.casefold(): (areas[a.parent_id].display_name.casefold() if a.parent_id else None)
        for a in areas.values()
    }

    def on_cycle(name: str) -> bool:
        current, steps = parent_of.get(name), 0
        while current is not None and steps <= len(parent_of):
            if current == name:
                return True
            current, steps = parent_of.get(current), steps + 1
        return False

    def leave_out(row: Row, existing, reason: str) -> None:
        rejected[row.number] = reason
        name = row.values["name"].casefold()
        if existing is not None:
            parent_of[name] = original[name]
        else:
            parent_of.pop(name, None)

    rejected: dict[int, str] = {}
    for row, existing in [(r, e) for r, e in good if on_cycle(r.values["name"].casefold())]:
        leave_out(row, existing, "a cycle: the area would be inside itself")
    changed = True
    while changed:
        changed = False
        for row, existing in good:
            parent = row.values.get("parent") or ()
            if row.number not in rejected and parent and parent[-1].casefold() not in parent_of:
                leave_out(row, existing, "no such area in this property or this file")
                changed = True
    planned: list[tuple[Row, object, str | None]] = []
    for row, existing in good:
        if row.number in rejected:
            _error(errors, row, "parent", rejected[row.number])
            continue
        name = row.values["name"].casefold()
        parent = row.values.get("parent") or ()
        chain, current = [], parent_of.get(name)
        while current is not None and current not in chain:
            chain.append(current)
            current = parent_of.get(current)
        expected = tuple(reversed(chain))
        if tuple(p.casefold() for p in parent) != expected:
            actual = path_join(display[c] for c in expected) or "the top level"
            _error(errors, row, "parent", f"the path does not match the tree: that parent is under {actual}")
            continue
        planned.append((row, existing, parent[-1] if parent else None))
    # Parents first: a created area's parent may be created by a later row.
    depth: dict[str, int] = {}
    for name in parent_of:
        current, level = parent_of.get(name), 0
        while current is not None and level < 1000:
            level += 1
            current = parent_of.get(current)
        depth[name] = level
    named = set()
    for row, existing, parent_name in sorted(
        planned, key=lambda p: (depth[p[0].values["name"].casefold()], p[0].number)
    ):
        v = row.values
        path = path_join((*(v.get("parent") or ()), v["name"]))
        if existing is None:
            values = {"name": v["name"], "type": v["type"], "parent": parent_name}
            ops.append({"op": "create", "row": row.number, "key": path, "values": values})
            continue
        named.add(existing)
        area = areas[existing]
        changes = {}
        before_parent = areas[area.parent_id].display_name if area.parent_id else None
        if (before_parent or "").casefold() != (parent_name or "").casefold():
            before = path_join(index.path(area.parent_id)) if area.parent_id else None
            changes["parent"] = [before, path_join(v.get("parent") or ()) or None]
        if area.display_name != v["name"]:
            changes["name"] = [area.display_name, v["name"]]
        ops.append(_op(row, path, existing, changes))
    if mode == "sync":
        leaving = [pk for pk in areas if pk not in named]
        for pk in sorted(leaving, key=lambda pk: (-len(index.path(pk)), index.path(pk))):
            ops.append({"op": "remove", "key": path_join(index.path(pk)), "id": str(pk)})
    return ops, errors
