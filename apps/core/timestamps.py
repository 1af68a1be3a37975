"""The spec's timestamp text (HTTP-free: signed payloads, events and the API all use it)."""

import datetime as dt

from django.utils import timezone


def format_timestamp(value: dt.datetime) -> str:
    """The spec's timestamp text: UTC with milliseconds and a Z."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    value = value.astimezone(dt.UTC)
    # not strftime("%Y"): it writes year 655 as "655" on glibc, which is no RFC 3339 date-time
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:"
        f"{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )
