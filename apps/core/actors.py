"""Actor labels: who did it, as recorded in `lastModifiedBy` and on events."""

SYSTEM = "system"


def actor_for_staff(user) -> str:
    """A staff member working in the admin."""
    return f"staff:{user.pk}"
