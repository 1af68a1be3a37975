"""Typed readers for environment settings.

Every reader takes a development default and fails loudly (ImproperlyConfigured) on a value
it cannot parse, so a typo in production stops the process instead of running with a
surprise. `env_secret` also reads `<NAME>_FILE` (Docker/Kubernetes secrets).
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str) -> str:
    """A plain string; empty means unset."""
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    """true/false (also 1/0, yes/no, on/off); anything else is an error."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer, optionally bounded."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum {maximum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str) -> str:
    """A secret from `NAME`, or from the file named by `NAME_FILE`."""
    path = _raw(f"{name}_FILE")
    if path is not None:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from None
    return env_str(name, default)


def env_key_ring(name: str, default: dict[int, str]) -> dict[int, str]:
    """A ring of keys with ids, written `id:key,id:key`; the highest id is the current one."""
    value = env_secret(name, "")
    if not value:
        return dict(default)
    ring: dict[int, str] = {}
    for item in value.split(","):
        key_id, sep, key = item.strip().partition(":")
        if not sep or not key_id.isdigit() or len(key) < 16:
            raise ImproperlyConfigured(f"{name} must be 'id:key,...' with integer ids and keys of 16+ characters")
        ring[int(key_id)] = key
    return ring
