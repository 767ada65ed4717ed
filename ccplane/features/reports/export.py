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


BOM = b"\xef\xbb\xbf"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
Page = list[tuple[Any, ...]]


def flat(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "legs"}  # the legs are summarised in the flat columns


def _safe(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The row with every text a spreadsheet could run as a formula quoted (as alerts.export._cell)."""
    for v in row:
        if type(v) is str and v[:1] in _FORMULA:
            return tuple(_cell(x) for x in row)
    return row


async def table_of(rows: AsyncIterator[dict[str, Any]]) -> tuple[list[str] | None, AsyncIterator[Page]]:
    """Dict rows as a table: the first row's keys (legs left out) and pages of tuples."""
    it = rows.__aiter__()
    try:
        first = flat(await it.__anext__())
    except StopAsyncIteration:
        return None, _pages([])
    columns = list(first)

    async def pages() -> AsyncIterator[Page]:
        yield [tuple(first[c] for c in columns)]
        async for row in it:
            yield [tuple(row.get(c) for c in columns)]
    return columns, pages()


async def _pages(pages: list[Page]) -> AsyncIterator[Page]:
    for page in pages:
        yield page


async def csv_chunks(meta: dict[str, Any], rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    columns, pages = await table_of(rows)
    async for chunk in csv_table(meta, columns, pages):
        yield chunk


async def csv_table(meta: dict[str, Any], columns: Iterable[str] | None,
                    pages: AsyncIterator[Page], safe: bool = False) -> AsyncIterator[bytes]:
    """The header block, the column names and the rows, one chunk per page (csv.writer over tuples:
    None is an empty cell, numbers are written as numbers). ``safe``: the rows' texts are already
    quoted against formulas (the detailed export does it while building them)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerows(header_block(meta))
    if columns is not None:
        w.writerow(columns)
    head = BOM
    async for page in pages:
        w.writerows(page if safe else map(_safe, page))
        if buf.tell() >= 1 << 16:
            yield head + buf.getvalue().encode("utf-8")
            head = b""
            buf.seek(0)
            buf.truncate()
    yield head + buf.getvalue().encode("utf-8")


async def xlsx_file(meta: dict[str, Any], rows: AsyncIterator[dict[str, Any]]) -> str:
    columns, pages = await table_of(rows)
    return await xlsx_table(meta, columns, pages)


async def xlsx_table(meta: dict[str, Any], columns: Iterable[str] | None, pages: AsyncIterator[Page]) -> str:
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
    if columns is not None:
        sheet.write_row(r, 0, list(columns))
        r += 1
    async for page in pages:
        for row in page:
            for c, v in enumerate(row):
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
