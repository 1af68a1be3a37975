"""The doors: where each lock is installed and what it is called, as access sees them.

Lock rows belong to apps.locks, on a higher floor: it signs each lock's key map from the lines
access derives (docs/ARCHITECTURE.md), so access may not import it. apps.locks provides these
ports from its AppConfig.ready(); access, and the apps beside it that need the same facts (a
phone's access map), call them.
"""

from apps.core.ports import Port

installed = Port("access.doors.installed", "property id → {lock id: area id} of its live locks installed in an area")
names = Port("access.doors.names", "property id → {lock id: display name} of all its locks, deleted ones too")
areas_and_kids = Port(
    "access.doors.areas_and_kids",
    "lock ids → {lock id: (area id or None, kid of its active lockKey or None)}, in one query",
)
