"""Reports as CSV (UTF-8 with BOM, streamed) and XLSX (typed cells, constant memory).
Both start with the same header block: report, domain, period, filters, generated at, time zone."""
from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Iterable
from typing import Any

import xlsxwriter

from ..alerts.export import _cell


def header_block(meta: dict[str, Any]) -> list[list[Any]]:
    filters = "; ".join(f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in meta["filters"].items())
    return [["report", meta["report"]], ["domain", meta["domain"]], ["from", meta["from"]], ["to", meta["to"]],
            ["filters", filters], ["generated_at", meta["generated_at"]], ["timezone", meta["timezone"]], []]


def flat(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "legs"}  # the legs are summarised in the flat columns


async def csv_chunks(meta: dict[str, Any], rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    buf = io.StringIO()
    w = csv.writer(buf)
    for line in header_block(meta):
        w.writerow(line)
    columns: list[str] | None = None
    n = 0
    async for row in rows:
        row = flat(row)
        if columns is None:
            columns = list(row)
            w.writerow(columns)
        w.writerow([_cell("" if row[c] is None else row[c]) for c in columns])
        n += 1
        if n % 2000 == 0:
            yield (b"\xef\xbb\xbf" if n == 2000 else b"") + buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if n < 2000:
        yield b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")
    else:
        yield buf.getvalue().encode("utf-8")


async def xlsx_file(meta: dict[str, Any], rows: AsyncIterator[dict[str, Any]]) -> str:
    """Writes the workbook row by row to a temporary file (constant_memory) and returns its path."""
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                      "strings_to_numbers": False, "strings_to_urls": False})
    sheet = book.add_worksheet(meta["report"][:31])
    r = 0
    for line in header_block(meta):
        sheet.write_row(r, 0, [_cell(v) for v in line])
        r += 1
    columns: list[str] | None = None
    async for row in rows:
        row = flat(row)
        if columns is None:
            columns = list(row)
            sheet.write_row(r, 0, columns)
            r += 1
        for c, name in enumerate(columns):
            v = row[name]
            if isinstance(v, bool):
                sheet.write_boolean(r, c, v)
            elif isinstance(v, (int, float)):
                sheet.write_number(r, c, v)  # numbers (seconds, counts, percentages) stay numbers
            elif v is not None:
                sheet.write_string(r, c, str(_cell(v)))
        r += 1
    book.close()
    return path


async def aiter(rows: Iterable[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for row in rows:
        yield row
