"""The pure parser: every bad-input case from issue 15 reports where and why, and never stops at
the first bad row."""

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from apps.imports import parsers, writers
from apps.imports.parsers import RowError, parse

USERS_HEADER = "externalId,email,displayName,firstName,lastName,phoneNumber,unit,groups"


def users(*lines: str, header: str = USERS_HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode()


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.create_sheet("ignored").append(["not", "read"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_error(parsed) -> str:
    assert parsed.rows == []
    assert len(parsed.errors) == 1, parsed.errors
    return parsed.errors[0].reason


# --- formats -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"email,displayName\nana@example.com,Ana\n",
        b"\xef\xbb\xbfemail,displayName\r\nana@example.com,Ana\r\n",
        b"EMAIL;DisplayName\r\nana@example.com;Ana\r\n",
        b'"Email","displayname"\n"ana@example.com","Ana"\n',
    ],
    ids=["plain", "bom-crlf", "semicolon-case", "quoted"],
)
def test_csv_dialects_and_header_case_read_alike(data):
    parsed = parse(data, kind="users")
    assert parsed.errors == []
    assert [row.values for row in parsed.rows] == [{"email": "ana@example.com", "displayName": "Ana"}]
    assert parsed.rows[0].number == 2


def test_quoted_fields_keep_delimiters_and_newlines():
    data = b'email;displayName;groups\r\nana@example.com;"Ana; the ""first""";"Gym|Pool; Deck"\r\n'
    parsed = parse(data, kind="users")
    assert parsed.errors == []
    assert parsed.rows[0].values["displayName"] == 'Ana; the "first"'
    assert parsed.rows[0].values["groups"] == ("Gym", "Pool; Deck")


def test_xlsx_first_sheet_typed_cells():
    data = xlsx(
        [
            ["Email", "accessLevel", "area", "validFrom", "validUntil"],
            ["ana@example.com", "guest", "Tower A / Floor 3 / 3B", datetime(2026, 3, 1, 9, 0), "2026-03-02"],
        ]
    )
    parsed = parse(data, kind="grants", time_zone="Europe/Berlin")
    assert parsed.errors == []
    values = parsed.rows[0].values
    assert values["area"] == ("Tower A", "Floor 3", "3B")
    assert values["accessLevel"] == "GUEST"
    assert values["validFrom"] == datetime(2026, 3, 1, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    assert values["validUntil"] == datetime(2026, 3, 2, tzinfo=ZoneInfo("Europe/Berlin"))


def test_times_use_the_property_zone_unless_an_offset_or_row_zone_is_given():
    data = (
        b"email,area,accessLevel,validFrom,validUntil,timeZone\n"
        b"a@example.com,Lobby,USER,2026-03-01 09:00,2026-03-01T20:00+00:00,\n"
        b"b@example.com,Lobby,USER,2026-03-01T09:00,,Asia/Tokyo\n"
    )
    first, second = parse(data, kind="grants", time_zone="America/New_York").rows
    assert first.values["validFrom"].astimezone(UTC) == datetime(2026, 3, 1, 14, tzinfo=UTC)
    assert first.values["validUntil"].utcoffset() == timedelta(0)
    assert second.values["validFrom"].astimezone(UTC) == datetime(2026, 3, 1, 0, tzinfo=UTC)


def test_only_the_columns_present_are_in_a_row():
    parsed = parse(b"email,displayName\nana@example.com,Ana\n", kind="users")
    assert set(parsed.rows[0].values) == {"email", "displayName"}


# --- bad input ---------------------------------------------------------------------------


def test_empty_file():
    assert file_error(parse(b"", kind="users")) == "The file is empty."
    assert file_error(parse(b"\xef\xbb\xbf\r\n \n", kind="users")) == "The file is empty."


def test_header_only():
    assert file_error(parse(users(), kind="users")) == "The file has a header but no rows."


def test_unknown_and_missing_columns_are_named():
    parsed = parse(b"email,nickname\nana@example.com,Ana\n", kind="users")
    reason = file_error(parsed)
    assert "unknown column 'nickname'" in reason
    assert "missing required column displayName" in reason
    assert parsed.errors[0].row == 1


def test_duplicate_header_case_insensitive():
    reason = file_error(parse(b"email,displayName,EMAIL\na@example.com,A,b@example.com\n", kind="users"))
    assert "duplicate column 'EMAIL'" in reason


def test_too_many_and_too_few_cells_are_row_errors_and_parsing_goes_on():
    parsed = parse(
        b"email,displayName\na@example.com,A,extra\nb@example.com\nc@example.com,C\n",
        kind="users",
    )
    assert parsed.errors == [
        RowError(2, "", "", "3 cells; the header has 2"),
        RowError(3, "", "", "1 cells; the header has 2"),
    ]
    assert [row.number for row in parsed.rows] == [4]
    assert parsed.total == 3


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("email", "ana.example.com", "not an email address"),
        ("phoneNumber", "555-0123", "not an E.164 phone number (e.g. +14155550123)"),
        ("unit", "Tower A //3B", "a name path has a blank part (use 'A / B')"),
        ("displayName", "x" * 201, "longer than 200 characters"),
    ],
)
def test_invalid_user_cells_name_row_column_value(column, value, reason):
    cells = {"email": "ana@example.com", "displayName": "Ana", column: value}
    header = ",".join(cells)
    parsed = parse(users(",".join(cells.values()), header=header), kind="users")
    assert parsed.errors == [RowError(2, column, value, reason)]


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("validFrom", "01/03/2026", "not a date and time (use ISO 8601, e.g. 2026-03-01T09:00 or 2026-03-01)"),
        ("timeZone", "Mars/Olympus", "not an IANA time zone (e.g. Europe/Berlin)"),
        ("accessLevel", "superuser", "not one of OWNER, ADMIN, USER, GUEST"),
    ],
)
def test_invalid_grant_cells(column, value, reason):
    cells = {"email": "ana@example.com", "lock": "Front door", "accessLevel": "USER", column: value}
    parsed = parse(f"{','.join(cells)}\n{','.join(cells.values())}\n".encode(), kind="grants")
    assert parsed.errors == [RowError(2, column, value, reason)]


def test_invalid_area_type_enum():
    parsed = parse(b"name,parent,type\nLobby,,garage\n", kind="areas")
    assert parsed.errors == [RowError(2, "type", "garage", "not one of resident, common, staff")]


def test_grant_rules_across_cells():
    parsed = parse(
        b"email,lock,area,accessLevel,validFrom,validUntil\n"
        b",Front door,,USER,,\n"
        b"a@example.com,Front door,Lobby,USER,,\n"
        b"a@example.com,Front door,,USER,2026-03-02,2026-03-01\n",
        kind="grants",
    )
    assert [(e.row, e.column, e.reason) for e in parsed.errors] == [
        (2, "email", "give the person's email or externalId"),
        (3, "lock", "give either a lock or an area"),
        (4, "validUntil", "must be after validFrom"),
    ]


def test_the_same_user_twice_by_email_or_external_id():
    parsed = parse(
        users(
            "e1,ana@example.com,Ana,,,,,",
            "e2,ANA@example.com,Ana again,,,,,",
            "e1,bo@example.com,Bo,,,,,",
            "e3,cy@example.com,Cy,,,,,",
        ),
        kind="users",
    )
    assert parsed.errors == [
        RowError(3, "email", "ANA@example.com", "the same as row 2"),
        RowError(4, "externalId", "e1", "the same as row 2"),
    ]
    assert [row.number for row in parsed.rows] == [2, 5]


def test_every_bad_row_is_reported_at_once():
    lines = [f"user{i}@example.com,User {i}" if i % 2 else f"bad{i},User {i}" for i in range(1, 101)]
    parsed = parse(("email,displayName\n" + "\n".join(lines)).encode(), kind="users")
    assert len(parsed.errors) == 50
    assert len(parsed.rows) == 50


def test_over_the_size_limit():
    reason = file_error(parse(users("e1,ana@example.com,Ana,,,,,"), kind="users", max_bytes=50))
    assert reason.startswith("The file is ") and "the limit is 50 bytes" in reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is a binary file, neither CSV nor XLSX."),
        (b"%PDF-1.7\n%\xe2\xe3", "This is a binary file, neither CSV nor XLSX."),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(50),
            "This is an old Excel .xls file; save it as .xlsx or CSV UTF-8.",
        ),
        (b"PK\x03\x04" + bytes(30), "This is a ZIP file but not a readable XLSX workbook."),
        (b"email,displayName\n\x00\x01\x02", "This is a binary file, neither CSV nor XLSX."),
    ],
    ids=["png", "pdf", "xls", "zip", "nul"],
)
def test_binary_neither_csv_nor_xlsx(data, reason):
    assert file_error(parse(data, kind="users")) == reason


def test_other_encoding_names_the_problem_and_the_line():
    data = "email,displayName\r\nana@example.com,Ana\r\njose@example.com,José\r\n".encode("cp1252")
    parsed = parse(data, kind="users")
    reason = file_error(parsed)
    assert "not UTF-8" in reason and "0xE9" in reason and "line 3" in reason
    assert parsed.errors[0].row == 3


def test_blank_lines_are_skipped():
    parsed = parse(b"email,displayName\n\na@example.com,A\n,\n", kind="users")
    assert parsed.errors == [] and parsed.total == 1


def test_kind_choices_follow_the_models():
    from apps.access.models import AccessLevel, UserGroupGroupType
    from apps.areas.models import AreaAreaType

    assert tuple(AreaAreaType.values) == parsers.AREA_TYPES
    assert tuple(UserGroupGroupType.values) == parsers.GROUP_TYPES
    assert tuple(AccessLevel.values) == parsers.ACCESS_LEVELS


# --- export escaping ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["=1+1", "+14155550123", "-5 Basement", "@SUM(A1)", "\tTab", '=HYPERLINK("x")'])
def test_formula_cells_are_escaped_on_export_and_read_back_unchanged(value):
    assert writers.escape(value) == "'" + value
    data = b"".join(writers.csv_stream(["email", "displayName"], [["ana@example.com", value]]))
    assert data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1][1] == "'" + value
    assert parse(data, kind="users").rows[0].values["displayName"] == value.strip()
    book = b"".join(writers.xlsx_stream(["email", "displayName"], [["ana@example.com", value]]))
    sheet = openpyxl.load_workbook(io.BytesIO(book)).active
    assert sheet["B2"].data_type == "s" and sheet["B2"].value == "'" + value
    assert parse(book, kind="users").rows[0].values["displayName"] == value.strip()


def test_plain_cells_are_not_escaped():
    assert writers.escape("Ana") == "Ana"
    assert writers.escape(None) == ""


def test_csv_stream_chunks_large_exports():
    chunks = list(writers.csv_stream(["email", "displayName"], ([f"u{i}@example.com", f"U{i}"] for i in range(1200))))
    assert len(chunks) == 3
    assert parse(b"".join(chunks), kind="users").total == 1200


def test_xlsx_rows_without_trailing_blank_cells_are_padded_but_csv_rows_are_not():
    data = xlsx([["email", "displayName", "lastName"], ["ana@example.com", "Ana"]])
    parsed = parse(data, kind="users")
    assert parsed.errors == [] and parsed.rows[0].values["lastName"] == ""
    csv_parsed = parse(b"email,displayName,lastName\r\nana@example.com,Ana\r\n", kind="users")
    assert csv_parsed.errors == [RowError(2, "", "", "2 cells; the header has 3")]
