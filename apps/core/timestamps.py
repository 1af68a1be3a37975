"""The spec's timestamp text (HTTP-free: signed payloads, events and the API all use it)."""

import datetime as dt

from django.utils import timezone


def format_timestamp(value: dt.datetime) -> str:
    """The spec's timestamp text: UTC with milliseconds and a Z."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
