"""Reports as files: CSV (one file, a `section` column naming the table) and XLSX (a worksheet per table).

Amounts stay integers of minor units in both, as the API speaks them: a spreadsheet never sees a float that
could round a cent away. XLSX is written with openpyxl, the plain-Python library that also reads it back.
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from tapzone.reports.shapes import Table

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECTION = "section"


def csv_columns(tables: list[Table]) -> list[str]:
    """`section`, then every table's columns in first-seen order; tables share a column where names match."""
    columns = [SECTION]
    for table in tables:
        columns.extend(name for name in table.columns if name not in columns)
    return columns


def csv_bytes(tables: list[Table]) -> bytes:
    columns = csv_columns(tables)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for table in tables:
        for row in table.rows:
            cells = dict(zip(table.columns, row, strict=True))
            writer.writerow(
                [table.name if name == SECTION else _csv_cell(cells.get(name)) for name in columns],
            )
    return out.getvalue().encode("utf-8")


def _csv_cell(value: object) -> object:
    return "" if value is None else value


def xlsx_bytes(tables: list[Table], info: list[tuple[str, str]]) -> bytes:
    """A first sheet `report` describes the report (what, venue, currency, cut-off), then a sheet per table."""
    book = Workbook()
    about = book.active
    assert about is not None  # a new workbook always has its first sheet
    about.title = "report"
    for key, value in info:
        about.append([key, value])
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 40
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(table.name[:31])  # Excel's limit on sheet names
        sheet.append(table.columns)
        for cell in sheet[1]:
            cell.font = bold
        for row in table.rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
        for index, name in enumerate(table.columns):
            widest = max([len(name), *(len(str(row[index])) for row in table.rows if row[index] is not None)])
            sheet.column_dimensions[sheet.cell(row=1, column=index + 1).column_letter].width = min(widest + 2, 48)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
