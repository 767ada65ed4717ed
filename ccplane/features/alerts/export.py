"""Alerts as CSV and XLSX, safe against formula injection."""
from __future__ import annotations

import csv
import io

import xlsxwriter

from .schemas import AlertOut

COLUMNS = ("id", "created_at", "level", "status", "name", "cpf", "phone", "location", "acknowledged_by",
           "acknowledged_at", "seconds_to_ack", "call")


def rows(alerts: list[AlertOut]) -> list[list[object]]:
    return [[a.id, a.created_at, a.level, a.status, a.person["name"], a.person["cpf"], a.person["phone"],
             a.location_text, a.acknowledged_by or "", a.acknowledged_at or "",
             a.seconds_to_ack if a.seconds_to_ack is not None else "", a.call or ""] for a in alerts]


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a spreadsheet must never run a value as a formula
    return value


def to_csv(alerts: list[AlertOut]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for row in rows(alerts):
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(alerts: list[AlertOut]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False})
    sheet = book.add_worksheet("alertas")
    sheet.write_row(0, 0, COLUMNS)
    for i, row in enumerate(rows(alerts), start=1):
        sheet.write_row(i, 0, row)
    book.close()
    return buf.getvalue()
