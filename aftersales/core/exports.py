"""CSV files for spreadsheets, safe to open.

Excel, WPS and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(and a leading tab or carriage return is dropped before they look), so a customer's invoice
title such as ``=HYPERLINK("http://…","点击")`` would run on the accountant's machine. Every text
cell that starts with one of these gets a leading ``'``, which spreadsheets show as text and do
not display; numbers stay numbers, so a credit note's ``-90.00`` still adds up. Every CSV export
writes through ``csv_response`` (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The 200 answer of a CSV export in the OpenAPI document (``openapi_extra=CSV_OPENAPI``).
CSV_OPENAPI = {
    "responses": {
        200: {
            "description": "CSV (UTF-8 with BOM, for spreadsheets); text cells that a "
            "spreadsheet would run as a formula start with an apostrophe (')",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


def csv_cell(value: object) -> object:
    """One cell: numbers as they are, times in ISO 8601, ``None`` empty, text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> HttpResponse:
    """A CSV attachment: a BOM (so Excel reads UTF-8 Chinese), the header, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
