"""Staff admin for locks, one module per concern:

- lock.py: where each lock is (property, area), its derived access lines, key map, sync,
  firmware and health; every write through apps.locks.services (add, install, uninstall,
  rename); deprovision stays with the API (it answers a signed command for the lock);
- records.py: the access logs locks reported, and the key-map changes with how many locks
  acknowledged each (provable revocation).
"""

# Importing the modules registers their ModelAdmins (Django's autodiscover imports this package).
from apps.locks.admin import lock, records  # noqa: F401
