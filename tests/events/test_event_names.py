"""The event names in docs/API.md, the names apps declare (events.registry.event_names_register)
and the names the code appends are one and the same set, so the documented list cannot go
stale: a new event_append("x.y", ...) fails here until it is declared and documented."""

import ast
import re
from pathlib import Path

from apps.events.registry import event_names

ROOT = Path(__file__).resolve().parents[2]
APPENDERS = {"event_append", "_event"}  # events.services.event_append and the apps' thin wrappers


def _appended_in_code() -> set[str]:
    names = set()
    for path in (ROOT / "apps").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called not in APPENDERS:
                continue
            given = [kw.value for kw in node.keywords if kw.arg == "event_name"] + node.args[:1]
            names |= {arg.value for arg in given if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return names


def _documented() -> set[str]:
    text = (ROOT / "docs" / "API.md").read_text()
    block = re.search(r"<!-- event-names:start -->(.*?)<!-- event-names:end -->", text, re.S).group(1)
    return set(re.findall(r"`([a-z_]+\.[a-z_]+)`", block))


def test_every_appended_event_is_declared_and_documented():
    in_code = _appended_in_code()
    assert len(in_code) > 40  # the scan finds the literals (it is not looking at nothing)
    assert in_code == set(event_names())
    assert _documented() == set(event_names())
