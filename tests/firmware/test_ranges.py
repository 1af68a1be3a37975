"""`Range: bytes=…` parsing (apps/firmware/ranges.py, pure)."""

import pytest

from apps.firmware.ranges import Unsatisfiable, parse_range

SIZE = 100


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-9", (0, 9)),
        ("bytes=10-", (10, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=-1000", (0, 99)),  # a suffix longer than the file is the whole file
        ("bytes=95-1000", (95, 99)),  # an end past the file is clipped
        ("bytes=99-99", (99, 99)),
        ("BYTES = 0-0", (0, 0)),  # the unit is case-insensitive
        ("items=0-1", None),  # another unit: ignored
        ("bytes=0-1,5-6", None),  # several ranges: whole body
    ],
)
def test_ranges(header, expected):
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header", ["bytes=100-", "bytes=200-300", "bytes=-0", "bytes=5-2", "bytes=abc", "bytes=-", "bytes="]
)
def test_unsatisfiable_or_malformed_ranges(header):
    with pytest.raises(Unsatisfiable):
        parse_range(header, SIZE)
