"""docs/API.md documents the permission map; keep the two from drifting apart."""

import re
from pathlib import Path

from apps.core.operations import OPERATIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"


def test_permission_table_matches_the_operation_map():
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| (\w+) \|$", DOC.read_text(), flags=re.MULTILINE)
    documented = {
        op: (set() if perms.strip() == "—" else {p.strip() for p in perms.split(",")}, scope)
        for op, perms, scope in rows
    }
    expected = {op: (set(rule.permissions), rule.scope.value) for op, rule in OPERATIONS.items()}
    assert documented == expected
