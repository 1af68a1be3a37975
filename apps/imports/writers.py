"""PURE: rows → CSV or XLSX bytes, streamed, with formula cells escaped (docs/IMPORT.md).

CSV goes out chunk by chunk; XLSX through openpyxl's write-only workbook, which keeps rows on
disk, not in memory. Both escape cells a spreadsheet would run as formulas (OWASP CSV
injection: a leading =, +, -, @, tab or CR gets a ' in front); the parser takes that ' off
again, so an untouched export imports unchanged.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator

from openpyxl import Workbook

from apps.imports.parsers import FORMULA_STARTS

CHUNK_ROWS = 500
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def escape(value) -> str:
    """A cell's text, with a ' in front of anything a spreadsheet would evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_stream(header: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (so Excel reads it as UTF-8), CRLF, in chunks of CHUNK_ROWS rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    first = True
    for count, row in enumerate(rows, start=1):
        writer.writerow([escape(cell) for cell in row])
        if count % CHUNK_ROWS == 0:
            yield (("\ufeff" if first else "") + buffer.getvalue()).encode()
            first = False
            buffer.seek(0)
            buffer.truncate()
    yield (("\ufeff" if first else "") + buffer.getvalue()).encode()


def xlsx_stream(header: list[str], rows: Iterable[list], *, title: str = "Sheet1") -> Iterator[bytes]:
    """An .xlsx workbook of one sheet, every cell a string; written to a temporary file, then read out."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([escape(cell) for cell in row])
    with tempfile.TemporaryFile() as handle:
        book.save(handle)
        handle.seek(0)
        while chunk := handle.read(64 * 1024):
            yield chunk
