"""PURE: a CSV or XLSX file's bytes → typed rows and row errors, per import kind (docs/IMPORT.md).

No Django, no ORM: what a file says, checked on its own. Whether a parent area exists or a
user is already there is the services' question (apps/imports/plan.py). Errors never stop the
parse: every bad row is reported at once. Only a file that cannot be read as a table (empty,
binary, wrong encoding, too big, a bad header) stops before the rows.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row 2.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

# The choices of the models the kinds write (a test keeps these equal to the models' choices).
AREA_TYPES = ("resident", "common", "staff")
GROUP_TYPES = ("resident", "common", "staff")
ACCESS_LEVELS = ("OWNER", "ADMIN", "USER", "GUEST")

LIST_SEPARATOR = "|"
PATH_SEPARATOR = "/"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

# OWASP CSV injection: a cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+[1-9]\d{1,14}$")  # E.164, as accounts.User.phone_number
PHONE_PUNCTUATION = re.compile(r"[\s\-().]")


@dataclass(frozen=True)
class Column:
    """One column of a kind: its header, how its cells are typed, and whether it must be there."""

    name: str
    type: str = "text"  # text | email | phone | enum | path | list | datetime | zone
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int = 200
    help: str = ""


KINDS: dict[str, tuple[Column, ...]] = {
    "users": (
        Column("externalId", max_length=255, help="Your system's id for the person; matched first."),
        Column("email", "email", required=True, max_length=254, help="Matched when externalId is blank or new."),
        Column("displayName", required=True),
        Column("firstName", max_length=100),
        Column("lastName", max_length=100),
        Column("phoneNumber", "phone", help="E.164, e.g. +14155550123."),
        Column("unit", "path", help="An area path; the person joins that area's group."),
        Column("groups", "list", help="Group names separated by |; the person joins each."),
    ),
    "areas": (
        Column("name", required=True),
        Column("parent", "path", help="The parent's name path, e.g. Tower A / Floor 3; blank: top level."),
        Column("type", "enum", required=True, choices=AREA_TYPES),
    ),
    "groups": (
        Column("name", required=True),
        Column("type", "enum", required=True, choices=GROUP_TYPES),
    ),
    "memberships": (
        Column("externalId", max_length=255),
        Column("email", "email", max_length=254),
        Column("group", required=True),
    ),
    "grants": (
        Column("externalId", max_length=255),
        Column("email", "email", max_length=254),
        Column("lock", help="The lock's name; give lock or area."),
        Column("area", "path", help="An area path; give lock or area."),
        Column("accessLevel", "enum", required=True, choices=ACCESS_LEVELS),
        Column("validFrom", "datetime", help="ISO 8601; without an offset, in timeZone or the property's zone."),
        Column("validUntil", "datetime"),
        Column("timeZone", "zone", help="IANA name for this row's times, e.g. Europe/Berlin."),
    ),
}


@dataclass(frozen=True)
class RowError:
    """What is wrong, where: `row` 0 is the file itself, 1 the header."""

    row: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class Row:
    """A data row, typed: `values` holds only the columns the file has, by their canonical names."""

    number: int
    values: dict[str, object]


@dataclass
class Parsed:
    kind: str
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0  # data rows seen, good and bad

    @property
    def bad_rows(self) -> set[int]:
        return {e.row for e in self.errors if e.row > 1}


class FileProblem(Exception):
    """The file cannot be read as a table; parsing stops with this one error."""

    def __init__(self, reason: str, row: int = 0, column: str = "", value: str = ""):
        super().__init__(reason)
        self.error = RowError(row, column, value, reason)


# --- reading cells -----------------------------------------------------------------------


def _unescape(value: str) -> str:
    """Undo the export's formula escape (a leading ' before a formula character)."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _sniff_delimiter(first_line: str) -> str:
    unquoted = re.sub(r'"[^"]*"', "", first_line)
    return ";" if unquoted.count(";") > unquoted.count(",") else ","


def _csv_records(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex().upper()
        raise FileProblem(
            f"The file is not UTF-8: byte 0x{byte} on line {line} cannot be read. "
            "Save it as “CSV UTF-8” (or as .xlsx) and upload it again.",
            row=line,
        ) from None
    if "\x00" in text:
        raise FileProblem("This is a binary file, neither CSV nor XLSX.")
    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    if "\n" not in text and "\r" in text:  # old Mac line ends: let the io module split them
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return
    # The whole text was only the check above: the rows are read from the bytes a line at a
    # time, so the file is not held twice while the parse goes on (a 50k-row file: 5.6 MB).
    del text
    yield from csv.reader(_lines(data), delimiter=delimiter)


def _lines(data: bytes) -> Iterator[str]:
    """The file's lines with their line ends, decoded one at a time (UTF-8 never has a
    newline byte inside a character); the csv reader joins quoted line breaks."""
    start, size = (3 if data.startswith(b"\xef\xbb\xbf") else 0), len(data)
    while start < size:
        end = data.find(b"\n", start)
        if end == -1:
            yield data[start:].decode("utf-8")
            return
        yield data[start : end + 1].decode("utf-8")
        start = end + 1


def _xlsx_records(data: bytes) -> Iterator[list[str]]:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise FileProblem("This is a ZIP file but not a readable XLSX workbook.") from None
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell_text(v) for v in values]
            while cells and cells[-1] == "":
                cells.pop()
            yield cells
    finally:
        book.close()


def records(data: bytes) -> Iterator[list[str]]:
    """The file's rows as lists of strings: XLSX (a ZIP) by openpyxl, anything else as CSV."""
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_records(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem("This is an old Excel .xls file; save it as .xlsx or CSV UTF-8.")
    if data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")) or b"\x00" in data[:8192]:
        raise FileProblem("This is a binary file, neither CSV nor XLSX.")
    return _csv_records(data)


# --- typing cells ------------------------------------------------------------------------


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def path_split(text: str) -> tuple[str, ...] | None:
    """`Tower A / Floor 3 / 3B` → ("Tower A", "Floor 3", "3B"); None when a segment is blank."""
    parts = tuple(part.strip() for part in text.split(PATH_SEPARATOR))
    return None if any(not part for part in parts) else parts


def path_join(parts) -> str:
    return f" {PATH_SEPARATOR} ".join(parts)


def _typed(column: Column, text: str, zone: str) -> tuple[object, str | None]:
    """(value, None) or (None, reason). `text` is stripped and not blank."""
    if len(text) > (column.max_length if column.type in ("text", "email") else 2000):
        return None, f"longer than {column.max_length} characters"
    if column.type == "text":
        return text, None
    if column.type == "email":
        return (text.lower(), None) if EMAIL_RE.match(text) else (None, "not an email address")
    if column.type == "phone":
        phone = PHONE_PUNCTUATION.sub("", text)
        return (phone, None) if PHONE_RE.match(phone) else (None, "not an E.164 phone number (e.g. +14155550123)")
    if column.type == "enum":
        by_fold = {choice.casefold(): choice for choice in column.choices}
        if text.casefold() in by_fold:
            return by_fold[text.casefold()], None
        return None, f"not one of {', '.join(column.choices)}"
    if column.type == "path":
        parts = path_split(text)
        return (parts, None) if parts else (None, f"a name path has a blank part (use 'A {PATH_SEPARATOR} B')")
    if column.type == "list":
        names = [name.strip() for name in text.split(LIST_SEPARATOR)]
        return tuple(dict.fromkeys(name for name in names if name)), None
    if column.type == "zone":
        return (text, None) if text in _zones() else (None, "not an IANA time zone (e.g. Europe/Berlin)")
    if column.type == "datetime":
        try:
            moment = datetime.fromisoformat(text.replace(" ", "T", 1) if len(text) > 10 else text)
        except ValueError:
            return None, "not a date and time (use ISO 8601, e.g. 2026-03-01T09:00 or 2026-03-01)"
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(zone))
        return moment, None
    raise ValueError(f"unknown column type {column.type!r}")


def _blank(column: Column):
    return {"text": "", "email": "", "phone": "", "list": ()}.get(column.type)


# --- rows --------------------------------------------------------------------------------


def _row_rules(kind: str, number: int, values: dict, present: set[str]) -> list[RowError]:
    """Checks across one row's cells."""
    errors = []
    if kind in ("memberships", "grants") and not (values.get("email") or values.get("externalId")):
        errors.append(RowError(number, "email", "", "give the person's email or externalId"))
    if kind == "grants":
        if bool(values.get("lock")) == bool(values.get("area")):
            errors.append(RowError(number, "lock", str(values.get("lock") or ""), "give either a lock or an area"))
        start, end = values.get("validFrom"), values.get("validUntil")
        if start and end and end <= start:
            errors.append(RowError(number, "validUntil", end.isoformat(), "must be after validFrom"))
    return errors


def _row_key(kind: str, values: dict) -> list[tuple[str, object]]:
    """What may appear only once in a file, per kind: (column, key)."""
    if kind == "users":
        keys = [("email", values.get("email"))]
        if values.get("externalId"):
            keys.append(("externalId", values["externalId"]))
        return keys
    if kind in ("areas", "groups"):
        return [("name", (values.get("name") or "").casefold())]
    if kind == "memberships":
        person = values.get("externalId") or values.get("email")
        return [("group", (person, (values.get("group") or "").casefold()))]
    return []


def parse(data: bytes, *, kind: str, time_zone: str = "UTC", max_bytes: int = DEFAULT_MAX_BYTES) -> Parsed:
    """Read `data` as rows of `kind`; times without an offset are in `time_zone` (the property's)."""
    parsed = Parsed(kind=kind)
    for chunk in parse_chunks(data, parsed, time_zone=time_zone, max_bytes=max_bytes):
        parsed.rows.extend(chunk)
    return parsed


def parse_chunks(
    data: bytes, parsed: Parsed, *, time_zone: str = "UTC", max_bytes: int = DEFAULT_MAX_BYTES, size: int = 2000
) -> Iterator[list[Row]]:
    """`parse`, streamed: the good rows in lists of up to `size`, as they are read, while the
    errors and the count of data rows gather in `parsed` (complete once the last list is
    out). Only a chunk of rows is held at a time (the errors and the keys that may appear once
    in a file are kept whole)."""
    kind, columns = parsed.kind, KINDS[parsed.kind]
    chunk: list[Row] = []
    try:
        if len(data) > max_bytes:
            raise FileProblem(f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes.")
        if not data.strip().lstrip(b"\xef\xbb\xbf").strip():
            raise FileProblem("The file is empty.")
        reader = iter(records(data))
        # A spreadsheet stores no trailing blank cells, so a short XLSX row is padded; in a CSV
        # a short row is a mistake (a lost delimiter shifts every later cell).
        pad = data.startswith(b"PK\x03\x04")
        header = next(reader, None)
        by_name = _header(header or [], columns)
        parsed.columns = [column.name for column in by_name.values()]
        seen: dict[str, dict] = {}  # column → key → the first row that has it
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            parsed.total += 1
            row = _row(
                parsed,
                kind,
                number,
                cells + [""] * (len(by_name) - len(cells)) if pad else cells,
                by_name,
                time_zone,
                seen,
            )
            if row is not None:
                chunk.append(row)
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
    except FileProblem as problem:
        parsed.errors.append(problem.error)
        return
    if chunk:
        yield chunk
    if parsed.total == 0:
        parsed.errors.append(RowError(0, "", "", "The file has a header but no rows."))


def _header(header: list[str], columns: tuple[Column, ...]) -> dict[int, Column]:
    """Index → column, refusing unknown, duplicate and missing required columns."""
    if not any(cell.strip() for cell in header):
        raise FileProblem("The file is empty.")
    known = {column.name.casefold(): column for column in columns}
    by_index: dict[int, Column] = {}
    problems = []
    for index, cell in enumerate(header):
        name = _unescape(cell.strip())
        column = known.get(name.casefold())
        if column is None:
            problems.append(
                f"unknown column {name!r} (column {index + 1})" if name else f"column {index + 1} has no header"
            )
        elif column in by_index.values():
            problems.append(f"duplicate column {name!r}")
        else:
            by_index[index] = column
    missing = [column.name for column in columns if column.required and column not in by_index.values()]
    if missing:
        problems.append(f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if problems:
        expected = ", ".join(column.name for column in columns)
        raise FileProblem(f"Header: {'; '.join(problems)}. The columns are: {expected}.", row=1)
    return by_index


def _row(parsed: Parsed, kind: str, number: int, cells: list[str], by_name: dict, zone: str, seen: dict) -> Row | None:
    width = len(by_name)
    if len(cells) < width:
        parsed.errors.append(RowError(number, "", "", f"{len(cells)} cells; the header has {width}"))
        return None
    if any(cell.strip() for cell in cells[width:]):
        parsed.errors.append(RowError(number, "", "", f"{len(cells)} cells; the header has {width}"))
        return None
    errors: list[RowError] = []
    values: dict[str, object] = {}
    raw = {column.name: _unescape(cells[index].strip()).strip() for index, column in by_name.items()}
    if raw.get("timeZone") and raw["timeZone"] in _zones():
        zone = raw["timeZone"]
    for column in by_name.values():
        text = raw[column.name]
        if not text:
            if column.required:
                errors.append(RowError(number, column.name, "", "required"))
            values[column.name] = _blank(column)
            continue
        value, reason = _typed(column, text, zone)
        if reason:
            errors.append(RowError(number, column.name, text, reason))
        values[column.name] = value
    if not errors:
        errors = _row_rules(kind, number, values, set(raw))
    if not errors:
        for column, key in _row_key(kind, values):
            if key in seen.get(column, ()):
                errors.append(
                    RowError(number, column, str(raw.get(column, "")), f"the same as row {seen[column][key]}")
                )
        for column, key in _row_key(kind, values):
            seen.setdefault(column, {}).setdefault(key, number)
    if errors:
        parsed.errors.extend(errors)
        return None
    return Row(number, values)


def template(kind: str) -> list[str]:
    """The header row of a kind's template file."""
    return [column.name for column in KINDS[kind]]
