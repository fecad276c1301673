"""CSV and XLSX for people's spreadsheets: one writer of each for every export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """A value a spreadsheet will not run: text that starts like a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: Iterable[dict], columns: Sequence[str], bom: bool = True) -> str:
    """CSV text with a header; a UTF-8 BOM by default so that spreadsheet programs read Chinese."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: cell(row.get(k)) for k in columns})
    return ("\ufeff" if bom else "") + out.getvalue()


def csv_stream(chunks: Iterable[list[dict]], columns: Sequence[str], headers: Sequence[str]):
    """CSV text chunk by chunk (a download that starts at once and shows its progress): a BOM,
    the header in people's words, then the rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    yield "\ufeff" + out.getvalue()
    for chunk in chunks:
        out.seek(0)
        out.truncate()
        writer.writerows([cell(row.get(k)) for k in columns] for row in chunk)
        yield out.getvalue()


def to_xlsx(
    chunks: Iterable[list[dict]], columns: Sequence[str], headers: Sequence[str], title: str
) -> bytes:
    """An XLSX workbook of one sheet (written row by row, openpyxl's write-only mode); numbers
    stay numbers, text that starts like a formula is kept as text."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(headers))
    for chunk in chunks:
        for row in chunk:
            sheet.append([cell(row.get(k)) for k in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
