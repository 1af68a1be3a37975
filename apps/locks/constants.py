"""Constants of the lock protocol and API (docs/PROTOCOL.md §6, §9)."""

# Kind of a lock's API secret: `khl_<prefix>_<random>` (apps/accounts/credentials.py format).
LOCK_SECRET_KIND = "khl"
# The principal kind and non-grantable permission a lock calls with (apps/core/operations.py).
LOCK_CALLER = "lock"
# Open access-log gaps returned in one sync response / list (the rest stay visible in the admin).
MISSING_RANGES_SHOWN = 100
# How long an unanswered KeyMapRequest waits before the sweep builds it (its own task was lost).
KEY_MAP_REQUEST_GRACE_SECONDS = 30
# Locks a key-map build computes from one load of inputs (their lines, the groups' members, those
# people's keys): bounds a full build's memory and the size of its IN lists.
KEY_MAP_BUILD_CHUNK = 200
# Locks per task of a build-all shared by workers (`key_maps_rebuild`): small enough that parts of
# very different cost (a front door of 3,000 entries, a unit door of 20) even out across workers.
KEY_MAP_PART_LOCKS = 100
# Lock-side constants a lock implements (PROTOCOL.md §9); here so the reference lock and the
# docs share one number.
UNLOCK_NONCE_TTL_SECONDS = 30
UNLOCK_PROOF_SKEW_SECONDS = 120
