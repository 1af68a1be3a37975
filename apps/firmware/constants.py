import re

# Spec FirmwareVersion.firmwareVersion: "alpha-numeric, dash or period characters only".
# Keyhouse also wants a leading letter or digit (no ".", "..", "-rc" names) and at most 64
# characters (the width of Event.firmware_version and Lock.current_firmware_version).
VERSION_MAX_LENGTH = 64
VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,63}", re.ASCII)
VERSION_HELP = "1–64 characters: ASCII letters, digits, dash and period, starting with a letter or digit"
# /firmware/unassign is its own operation; a version of that name could never be read back.
RESERVED_VERSIONS = frozenset({"unassign"})

CHUNK_SIZE = 64 * 1024


def version_problem(version: str) -> str | None:
    """Why `version` is not a valid firmware version name, or None."""
    if not isinstance(version, str) or not VERSION_RE.fullmatch(version):
        return f"Invalid firmware version {version!r}: {VERSION_HELP}."
    if version in RESERVED_VERSIONS:
        return f"{version!r} is reserved."
    return None
