"""Field validators shared by several apps (spec Address, IANA time zones)."""

import zoneinfo

from django.core.exceptions import ValidationError

ADDRESS_REQUIRED = ("line1", "city", "country", "postalCode")
ADDRESS_FIELDS = ("line1", "line2", "line3", "city", "state", "country", "postalCode")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/Berlin).")


def validate_address(value) -> None:
    """Spec Address: line1, city, country, postalCode required; line2, line3, state optional."""
    if not isinstance(value, dict):
        raise ValidationError("Address must be an object.")
    unknown = sorted(set(value) - set(ADDRESS_FIELDS))
    missing = [name for name in ADDRESS_REQUIRED if not str(value.get(name) or "").strip()]
    if unknown or missing:
        raise ValidationError(f"Address: missing {missing or '—'}, unknown {unknown or '—'}.")
