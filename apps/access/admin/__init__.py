"""Staff admin for the access model. Every write goes through a service (events appended):

- user groups and members: user_group_create / update / delete, membership_add / remove;
- schedules: a weekly grid over the windows JSON (static/keyhouse/schedule_grid.js),
  schedule_create / update / delete;
- the access-list editor on the area page: access.services.area_update;
- grants (grant_create, the "revoke" action; rows are never deleted) and blocks
  (block_create / block_delete);
- "Explain access" (selectors.access_explain) with the person's stored access map.

Derived rows (LockAccessEntry, LockAccessVersion, UserAccessMap) are not registered: they are shown,
read-only, on the area, lock and explain pages.

One module per page (the admin passed 1,000 lines as one file; STYLE's ~400-line split).
"""

# Importing the modules registers their ModelAdmins (Django's autodiscover imports this package).
from apps.access.admin import area_access, blocks, grants, groups, schedules  # noqa: F401
