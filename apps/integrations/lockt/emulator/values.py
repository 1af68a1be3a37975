"""Value coercion and formats shared by rules and handlers (spec §2.10, §5 notes)."""

import re
import secrets
import string
from datetime import UTC, datetime

_TRUE = {"true"}
_FALSE = {"false"}


def option(options, name: str, default: bool) -> bool:
    """An options value: true/false or "true"/"false" (any case); anything else → default (§2.9)."""
    if not isinstance(options, dict) or name not in options:
        return default
    value = options[name]
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return default


def as_bool(value, default: bool) -> bool:
    return option({"v": value}, "v", default)


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def as_int(value) -> int | None:
    """An integer from a JSON number or a numeric string (ids arrive both ways, A21)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def numeric(value) -> bool:
    return re.fullmatch(r"\d+", as_text(value)) is not None


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def email_ok(value) -> bool:
    """[Inference] §5 notes: one @, a non-empty local part, a dotted domain."""
    return _EMAIL.fullmatch(as_text(value)) is not None


def phone_ok(value) -> bool:
    """[Inference] §5 notes: 7–15 digits once spaces, -, (, ), + and . are removed."""
    digits = re.sub(r"[\s\-()+.]", "", as_text(value))
    return digits.isdigit() and 7 <= len(digits) <= 15


_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def parse_date(value):
    """`""`/None → None; else an aware UTC datetime; raises ValueError when the format is not
    one of §5's accepted ones (YYYY-MM-DD HH:MM:SS, YYYY-MM-DD, ISO-8601)."""
    if blank(value):
        return None
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip()
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    if "T" not in text:
        raise ValueError(value)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def date_ok(value) -> bool:
    try:
        parse_date(value)
    except ValueError:
        return False
    return True


def iso(value) -> str:
    """Output for users, fobs, events: `2022-07-10T09:00:00.000Z`; unset → `""` (§2.10)."""
    if value is None:
        return ""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def plain(value) -> str:
    """Output for delegates: `YYYY-MM-DD HH:MM:SS` (site time = UTC); unset → `""`."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


_KEY_ALPHABET = string.ascii_uppercase + string.digits


def credential_key() -> str:
    """[Inference] §9.2: four dash-separated groups of four from A–Z0–9."""
    return "-".join("".join(secrets.choice(_KEY_ALPHABET) for _ in range(4)) for _ in range(4))
