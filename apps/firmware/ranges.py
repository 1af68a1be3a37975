"""HTTP `Range: bytes=…` for downloads (RFC 9110 §14), PURE.

One range per request: `bytes=a-b`, `bytes=a-`, `bytes=-n`. Several ranges are answered
with the whole body (a server may ignore Range; multipart/byteranges is not offered). A
range unit other than bytes is ignored too. A malformed or unsatisfiable byte range is a
416 (RFC 9110 lets a server reject an invalid ranges-specifier).
"""

import re

_SPEC = re.compile(r"(\d*)-(\d*)", re.ASCII)


class Unsatisfiable(Exception):
    """The Range cannot be served from a representation of this size (→ 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte positions, inclusive, or None to send the whole body."""
    if not header:
        return None
    unit, sep, ranges = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    specs = [part.strip() for part in ranges.split(",")]
    if len(specs) > 1:
        return None
    match = _SPEC.fullmatch(specs[0])
    if match is None or match.group(0) == "-":
        raise Unsatisfiable(f"malformed range {specs[0]!r}")
    first, last = match.groups()
    if first == "":  # suffix: the last n bytes
        length = int(last)
        if length == 0 or size == 0:
            raise Unsatisfiable("empty suffix range")
        return max(size - length, 0), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        raise Unsatisfiable(f"range end {last} before its start {start}")
    if start >= size:
        raise Unsatisfiable(f"range starts at {start}, the file has {size} bytes")
    return start, end
