"""Fitting values to their columns before a bulk write.

SQLite does not enforce ``VARCHAR(n)``; PostgreSQL refuses the whole statement for
one value too long. Writers that store what Asterisk reports (caller ids, names,
dialplan details) cut strings to their column's length first, so one odd value
never costs a batch::

    LEGS = string_lengths(CallLeg.__table__)
    fit(LEGS, row)   # in place
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import String, Table


def string_lengths(table: Any) -> dict[str, int]:
    """Column name -> maximum length, for the table's length-bounded string columns."""
    assert isinstance(table, Table)
    return {c.name: c.type.length for c in table.columns
            if isinstance(c.type, String) and c.type.length}


def fit(lengths: dict[str, int], row: dict[str, Any]) -> dict[str, Any]:
    """Cut, in place, the row's strings that are longer than their column allows."""
    for name, limit in lengths.items():
        value = row.get(name)
        if isinstance(value, str) and len(value) > limit:
            row[name] = value[:limit]
    return row
