"""CSV for people's spreadsheets: one writer for every export."""

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
