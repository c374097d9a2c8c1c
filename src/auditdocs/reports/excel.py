"""The report's data as an Excel workbook: summary sheets with native Excel charts
(drawn by Excel from the summary cells, so they follow any edit), a data sheet of one
row per audit and domain of its own tool, one row per audit with its overall texts, and
a key to the grades.  Summaries are the case file audits'; other tools' grades are on
their own sheet ("Other tools"), never added to them.

Written by XlsxWriter, kept in memory (nothing of the evidence goes to a temporary
file): at 10,000 audits it writes the quarter's 880,000 cells in about a third of the
time openpyxl took, in half its memory (``bench/bench_reports.py``).

Every text is written as text (``write_string``, never a formula), and text that a
spreadsheet program would read as a formula when typed or pasted (``=``, ``+``, ``-``,
``@``... ``sheets.FORMULA_START``) gets Excel's quote prefix, so it stays text when
someone edits or copies the cell.

Accessible as Excel's checker and a screen reader want it (issue 17): every list is a
defined table with a header row and a name, one to a block of rows with no blank layout
rows (a title row above it at most), and a "None" row when a list is empty; each chart
has alternative text that states its figures (the report's words for it) and the
report's colour-blind-safe colours, markers and dashes; the workbook has a title, its
organisation as author and British English as its language.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name, xl_range, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from auditdocs.config import Config
from auditdocs.dates import month_label, now, shift_month, uk_day
from auditdocs.reports import charts
from auditdocs.reports.content import clean
from auditdocs.reports.data import Audit, ReportData
from auditdocs.reports.moderation import ChangedGrade, ModerationFigures, moderation_sheet_tables
from auditdocs.reports.sections import (
    abbreviation,
    by_month_alt,
    counts_alt,
    figures_alt,
    grade_columns,
    grade_fills,
    grades_alt,
    inadequate_cases,
    trend_alt,
)
from auditdocs.reports.stats import RETURN_FIGURES, MonthStats, good_or_better, is_overdue, month_stats
from auditdocs.sheets import DATE_FORMAT, FORMULA_START

HEADER = {"bold": True, "bg_color": "#DCE6F1", "text_wrap": True, "valign": "top"}
TITLE = {"bold": True, "font_size": 13}
PERCENT = {"num_format": "0%"}
CHANGE = {"num_format": "+0%;-0%;0%"}
WRAP = {"text_wrap": True, "valign": "top"}
DATE = {"num_format": DATE_FORMAT}
#: Excel refuses longer cell text; evidence is never that long, but a pasted file might be.
MAX_CELL = 32_000
#: Chart sizes in pixels (96 dpi): 18 × 9 cm, 12 × 8 cm, 20 × 10 cm.
BAR_SIZE, PIE_SIZE, LINE_SIZE = (680, 340), (454, 302), (756, 378)
#: The defined tables' style: a plain grid, the header row in HEADER's shading.
TABLE_STYLE = "Table Style Light 1"
LANGUAGE = "en-GB"
#: Excel's markers and dashes for the lines of a line chart, as the report's charts vary them.
EXCEL_MARKERS = ("circle", "square", "triangle", "diamond", "x", "star", "plus", "dash")
EXCEL_DASHES = ("solid", "dash", "dash_dot", "round_dot")
#: The report charts' hatches as Excel's fill patterns (scales of more than four grades).
EXCEL_PATTERNS = {
    "//": "wide_upward_diagonal", "..": "percent_20", "xx": "outlined_diamond", "\\\\": "wide_downward_diagonal",
    "++": "small_grid", "--": "narrow_horizontal", "oo": "sphere",
}  # fmt: skip


#: Text Excel would read as an escaped character (``_x0041_``).
_EXCEL_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (for dates from March 1900)


@dataclass
class Sheet:
    """A sheet being written top to bottom: ``row`` is the next row (0-based); ``rows``,
    once ``Book.rows`` has written any, the XML of its rows after XlsxWriter's."""

    ws: Worksheet
    name: str
    row: int = 0
    rows: list[str] | None = None
    columns: int = 0  # how many columns ``rows`` wrote


class Book:
    """A workbook written in memory: each format made once, each distinct text cleaned once.
    ``title`` and ``organisation`` (its author) are its document properties."""

    def __init__(self, title: str = "", organisation: str = "", comments: str = "") -> None:
        self.out = io.BytesIO()
        self.wb = xlsxwriter.Workbook(
            self.out,
            {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
        )
        self.wb.set_properties(
            {"title": title, "author": organisation, "company": organisation, "comments": comments,
             "created": now().replace(tzinfo=None)}
        )  # fmt: skip
        self._table_names: set[str] = set()
        self._widen: dict[str, tuple[str, str]] = {}  # table name → (range given, whole range)
        self._formats: dict[tuple[tuple[str, Any], ...], Format] = {}
        self._texts: dict[str, str] = {}
        self._quoted = self.format(quote=True)
        self._sheets: list[Sheet] = []
        self._cells: dict[str, str] = {}  # a distinct text's cell XML, after its reference

    def sheet(self, name: str) -> Sheet:
        self._sheets.append(Sheet(self.wb.add_worksheet(name), name))
        return self._sheets[-1]

    def format(self, *styles: Mapping[str, Any] | None, quote: bool = False) -> Format | None:
        props: dict[str, Any] = {}
        for style in styles:
            props.update(style or {})
        if quote:
            props["quote_prefix"] = True
        if not props:
            return None
        key = tuple(sorted(props.items()))
        found = self._formats.get(key)
        if found is None:
            found = self._formats[key] = self.wb.add_format(props)
        return found

    def text(self, value: str) -> str:
        """Text as a cell holds it: one line, no control or bidirectional characters (what
        Excel refuses, and what could make a cell read backwards), not too long."""
        found = self._texts.get(value)
        if found is None:
            found = self._texts[value] = clean(value)[:MAX_CELL]
        return found

    def row(
        self, sheet: Sheet, values: Sequence[Any], style: Mapping[str, Any] | None = None,
        columns: Mapping[int, Mapping[str, Any]] | None = None,
    ) -> int:  # fmt: skip
        """Write a row at the sheet's next row; ``style`` is every cell's, ``columns``
        (0-based) adds to it for some columns.  Returns the row written (0-based)."""
        if sheet.rows is not None:
            raise ValueError(f"sheet {sheet.name!r}: rows written as XML must be its last")
        ws, r, texts = sheet.ws, sheet.row, self._texts
        plain = style is None and not columns
        for c, value in enumerate(values):
            if isinstance(value, str):
                text = texts.get(value)
                if text is None:
                    text = self.text(value)
                if plain:  # most cells: text without a style of its own
                    if text:
                        ws.write_string(r, c, text, self._quoted if text.startswith(FORMULA_START) else None)
                    continue
                extra = columns.get(c) if columns else None
                fmt = self.format(style, extra, quote=text.startswith(FORMULA_START))
                if text:
                    ws.write_string(r, c, text, fmt)
                elif fmt is not None:
                    ws.write_blank(r, c, None, fmt)
                continue
            extra = columns.get(c) if columns else None
            if value is None:
                fmt = self.format(style, extra)
                if fmt is not None:
                    ws.write_blank(r, c, None, fmt)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value, self.format(style, extra))
            elif isinstance(value, datetime | date):
                ws.write_datetime(r, c, value, self.format(style, DATE, extra))
            else:
                ws.write_number(r, c, value, self.format(style, extra))
        sheet.row += 1
        return r

    def rows(self, sheet: Sheet, rows: Iterable[Sequence[Any]]) -> None:
        """Write plain rows (what ``row`` writes with no style) as the sheet's XML directly:
        the big data sheets, where XlsxWriter's time per cell is most of a workbook's.
        Text is an inline string (never a formula) with the quote prefix where a formula
        could start, numbers are numbers, dates dates (dd/mm/yyyy); nothing for None.
        XlsxWriter writes the rest of the sheet (header, widths, filter, panes); these
        rows go at the end of its rows when the workbook is closed."""
        quoted = self._quoted._get_xf_index() if self._quoted else 0  # the index XlsxWriter's write_* would give
        dated = self.format(DATE)
        day = dated._get_xf_index() if dated else 0
        out = sheet.rows = [] if sheet.rows is None else sheet.rows
        cells, texts = self._cells, self._texts
        names = [xl_col_to_name(c) for c in range(64)]
        n = sheet.row
        for values in rows:
            n += 1
            row = [f'<row r="{n}">']
            for c, value in enumerate(values):
                name = names[c] if c < 64 else xl_col_to_name(c)
                if isinstance(value, str):
                    cell = cells.get(value)
                    if cell is None:
                        text = texts.get(value)
                        if text is None:
                            text = self.text(value)
                        cell = cells[value] = _string_cell(text, quoted)
                    if cell == _SHARED:  # text such as "_x0041_": XlsxWriter's shared string, escaped as it does
                        shared = self.wb.str_table._get_shared_string_index(texts[value])
                        style = f' s="{quoted}"' if texts[value].startswith(FORMULA_START) else ""
                        row.append(f'<c r="{name}{n}"{style} t="s"><v>{shared}</v></c>')
                    elif cell:
                        row.append(f'<c r="{name}{n}"{cell}')
                elif value is None:
                    continue
                elif isinstance(value, bool):
                    row.append(f'<c r="{name}{n}" t="b"><v>{int(value)}</v></c>')
                elif isinstance(value, datetime | date):
                    serial = (value - _EPOCH).total_seconds() / 86400 if isinstance(value, datetime) else (
                        value - _EPOCH.date()).days  # fmt: skip
                    row.append(f'<c r="{name}{n}" s="{day}"><v>{serial:.16G}</v></c>')
                else:
                    row.append(f'<c r="{name}{n}"><v>{value:.16G}</v></c>')
            sheet.columns = max(sheet.columns, len(values))
            row.append("</row>")
            out.append("".join(row))
        sheet.row = n

    def table(
        self, sheet: Sheet, header: Sequence[str], rows: Sequence[Sequence[Any]], caption: str,
        columns: Mapping[int, Mapping[str, Any]] | None = None, empty: str = "None.",
    ) -> tuple[int, int]:  # fmt: skip
        """A defined table at the sheet's next row: ``header``, then ``rows`` or, for an
        empty list, one row saying so (``empty``).  Returns (header row, last row), 0-based."""
        top = sheet.row
        sheet.row += 1  # the header, written by ``define``
        for r in rows or [[empty]]:
            self.row(sheet, r, columns=columns)
        self.define(sheet, top, header, caption)
        return top, sheet.row - 1

    def define(self, sheet: Sheet, top: int, header: Sequence[str], caption: str) -> None:
        """Make the rows from ``top`` (its header row, written here) to the sheet's last
        row so far a defined table named after ``caption``: what a screen reader announces
        as a table, with its column names read with each cell, filterable."""
        names: list[str] = []
        for text in header:
            name = self.text(text) or f"Column {len(names) + 1}"
            while name.lower() in {n.lower() for n in names}:  # a table's column names are unique
                name += " (2)"
            names.append(name)
        last_row, last_col, name = max(sheet.row - 1, top + 1), len(names) - 1, self._table_name(caption)
        # A sheet whose rows are written as XML holds this one table.  XlsxWriter checks that
        # a new table overlaps no other by visiting each of its cells (0.6-1.3 s CPU for a
        # 10,000-audit quarter's data sheets), so such a table is defined over its header and
        # first row here and given its whole range when the package is written (``close``).
        short = sheet.rows is not None and last_row > top + 1
        if sheet.rows is not None:  # the sheet's dimension (``_with_rows``) covers the header too
            sheet.columns = max(sheet.columns, len(names))
        sheet.ws.add_table(
            top, 0, top + 1 if short else last_row, last_col,
            {"name": name, "style": TABLE_STYLE,
             "columns": [{"header": n, "header_format": self.format(HEADER, quote=n.startswith(FORMULA_START))}
                         for n in names]},
        )  # fmt: skip
        if short:
            self._widen[name] = (xl_range(top, 0, top + 1, last_col), xl_range(top, 0, last_row, last_col))

    def _table_name(self, caption: str) -> str:
        """A workbook-unique table name from a caption ("Overall grades" → OverallGrades)."""
        words = re.findall(r"[A-Za-z0-9]+", caption)
        base = "".join(w[:1].upper() + w[1:] for w in words)[:60] or "Table"
        if not base[0].isalpha() or re.fullmatch(r"[A-Za-z]{1,3}\d+|[RrCc]\d*([RrCc]\d*)?", base):
            base = "Table" + base
        name, n = base, 1
        while name.lower() in self._table_names:
            n += 1
            name = f"{base}_{n}"
        self._table_names.add(name.lower())
        return name

    def close(self) -> bytes:
        self.wb.close()
        package = self.out.getvalue()
        written = {f"xl/worksheets/sheet{s.ws.index + 1}.xml": s for s in self._sheets if s.rows}
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(package)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                body = zin.read(info)
                sheet = written.get(info.filename)
                if sheet is not None:
                    body = _with_rows(body, sheet)
                elif info.filename.startswith("xl/tables/") and self._widen:
                    body = _widened(body, self._widen)
                elif info.filename == "docProps/core.xml":
                    body = _with_language(body)
                zout.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=_LEVEL)
        return out.getvalue()


#: Deflate level of the rewritten package: the data sheets' XML is tens of MB; at 10,000
#: audits level 1 takes about 0.5 s CPU less than level 6 for a quarter's workbook a
#: third larger (9.2 MB, not 7.0).
_LEVEL = 1


_SHARED = "s"


def _string_cell(text: str, quoted: int) -> str:
    """The XML of a text cell after its ``<c r="A1"``; "" for no text, ``_SHARED`` for
    text that reads as Excel's escape of a character ("_x0041_"), which an inline string
    cannot be relied on to keep (openpyxl reads its escaped form back as it is)."""
    if not text:
        return ""
    if "_x" in text and _EXCEL_ESCAPE.search(text):
        return _SHARED
    xml = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    style = f' s="{quoted}"' if text.startswith(FORMULA_START) else ""
    return f'{style} t="inlineStr"><is><t>{xml}</t></is></c>'


def _widened(table: bytes, widen: Mapping[str, tuple[str, str]]) -> bytes:
    """A table part XlsxWriter wrote over a table's first rows, given the table's whole
    range (its own and its filter's), if ``widen`` names it."""
    found = re.search(rb'<table [^>]*\bname="([^"]+)"', table)
    if found is None or found.group(1).decode() not in widen:
        return table
    given, whole = widen[found.group(1).decode()]
    return table.replace(f'ref="{given}"'.encode(), f'ref="{whole}"'.encode())


def _with_language(core: bytes) -> bytes:
    """XlsxWriter's core properties with the workbook's language (which it cannot set)."""
    if b"<dc:language>" in core:
        return core
    return core.replace(b"</cp:coreProperties>", f"<dc:language>{LANGUAGE}</dc:language></cp:coreProperties>".encode())


def _with_rows(xml: bytes, sheet: Sheet) -> bytes:
    """A worksheet XlsxWriter wrote, with ``sheet.rows`` after its rows and its
    dimension covering them."""
    rows = "".join(sheet.rows or ()).encode()
    end = xml.index(b"</sheetData>")
    xml = xml[:end] + rows + xml[end:]
    last = xl_rowcol_to_cell(max(sheet.row - 1, 0), max(sheet.columns - 1, 0))
    return re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>'.encode(), xml, count=1)


def _ref(sheet: Sheet, first_row: int, first_col: int, last_row: int | None = None, last_col: int | None = None) -> str:
    """An absolute reference to a cell or range of a sheet, its name quoted ('Summary'!$B$3:$B$8)."""
    name = "'" + sheet.name.replace("'", "''") + "'"
    first = xl_rowcol_to_cell(first_row, first_col, True, True)
    if last_row is None or last_col is None or (last_row, last_col) == (first_row, first_col):
        return f"={name}!{first}"
    return f"={name}!{first}:{xl_rowcol_to_cell(last_row, last_col, True, True)}"


def _widths(sheet: Sheet, widths: Mapping[int, float]) -> None:
    for col, width in widths.items():
        sheet.ws.set_column(col, col, width)


def _title(book: Book, sheet: Sheet, text: str) -> None:
    """A title row, straight above the table it names (a row of its own, never blank)."""
    book.row(sheet, [text], TITLE)


def _fill(colour: str, hatch: str = "") -> dict[str, Any]:
    """A chart fill in the report charts' colour (and hatch, as Excel's pattern)."""
    if hatch:
        pattern = EXCEL_PATTERNS.get(hatch, "percent_50")
        return {"pattern": {"pattern": pattern, "fg_color": charts.WHITE, "bg_color": colour}}
    return {"fill": {"color": colour}, "border": {"color": charts.WHITE}}


def _labels(fill: str) -> dict[str, Any]:
    """Values written on a fill, black or white by contrast; none for 0."""
    return {"value": True, "num_format": "0;;;", "font": {"color": charts.text_colour(fill)}}


def _insert(sheet: Sheet, chart: Any, anchor: str, title: str, alt: str, size: tuple[int, int]) -> None:
    """Place a chart with its title and its alternative text (what it shows, in words)."""
    chart.set_title({"name": title})
    chart.set_size({"width": size[0], "height": size[1]})
    sheet.ws.insert_chart(anchor, chart, {"description": alt})


def _columns(book: Book, sheet: Sheet, title: str, alt: str, top: int, last: int, cols: int, anchor: str) -> None:
    """Columns: a series per column of the table at ``top`` (its name in the header), a
    category per row, each series in a colour and pattern of its own."""
    chart: Any = book.wb.add_chart({"type": "column"})
    for c in range(1, 1 + cols):
        n = c - 1
        fill = charts.BAR_COLOUR if cols == 1 else charts.LINE_COLOURS[n % len(charts.LINE_COLOURS)]
        chart.add_series(
            {
                "name": _ref(sheet, top, c),
                "categories": _ref(sheet, top + 1, 0, last, 0),
                "values": _ref(sheet, top + 1, c, last, c),
                **_fill(fill, "" if cols == 1 else charts.HATCHES[n % len(charts.HATCHES)]),
                "data_labels": {"value": True},
            }
        )
    chart.set_y_axis({"name": "Audits"})
    if cols == 1:
        chart.set_legend({"none": True})
    _insert(sheet, chart, anchor, title, alt, BAR_SIZE)


def _stacked(book: Book, sheet: Sheet, data: ReportData, ids: Sequence[str | None], title: str, alt: str,
             top: int, last: int, anchor: str) -> None:  # fmt: skip
    """Stacked horizontal bars of grade counts: a series per grade column of the table at
    ``top``, in the report's grade colours, each count written on its segment."""
    chart: Any = book.wb.add_chart({"type": "bar", "subtype": "stacked"})
    colours, hatches = grade_fills(data, ids)
    for c, (colour, hatch) in enumerate(zip(colours, hatches, strict=True), 1):
        chart.add_series(
            {
                "name": _ref(sheet, top, c),
                "categories": _ref(sheet, top + 1, 0, last, 0),
                "values": _ref(sheet, top + 1, c, last, c),
                "overlap": 100,
                **_fill(colour, hatch),
                "data_labels": _labels(colour),
            }
        )
    chart.set_x_axis({"name": "Audits"})  # a bar chart's value axis is its x axis
    # the first row at the top, as in the table, the value axis still at the bottom
    chart.set_y_axis({"reverse": True, "crossing": "max"})
    chart.set_legend({"position": "top"})
    _insert(sheet, chart, anchor, title, alt, BAR_SIZE)


def _pie(book: Book, sheet: Sheet, data: ReportData, ids: Sequence[str | None], title: str, alt: str,
         top: int, last: int, anchor: str) -> None:  # fmt: skip
    """A pie of the overall grades in the table at ``top``, each grade in its colour."""
    chart: Any = book.wb.add_chart({"type": "pie"})
    colours, hatches = grade_fills(data, ids)
    chart.add_series(
        {
            "name": _ref(sheet, top, 1),
            "categories": _ref(sheet, top + 1, 0, last, 0),
            "values": _ref(sheet, top + 1, 1, last, 1),
            "points": [_fill(c, h) for c, h in zip(colours, hatches, strict=True)],
            "data_labels": {"value": True, "num_format": "0;;;", "position": "center",
                            "custom": [{"font": {"color": charts.text_colour(c)}} for c in colours]},
        }
    )  # fmt: skip
    chart.set_legend({"position": "right"})
    _insert(sheet, chart, anchor, title, alt, PIE_SIZE)


def _grade_matrix(book: Book, sheet: Sheet, data: ReportData, what: str, rows: dict[str, Counter[str | None]],
                  title: str, anchor: str) -> None:  # fmt: skip
    """A table of grade counts (a row per domain or team with any grade counted, or a row
    saying there is none) and its stacked bar chart at ``anchor``."""
    rows = {name: counts for name, counts in rows.items() if sum(counts.values())}
    ids = grade_columns(data, list(rows.values()))
    table_rows = []
    for name, counts in rows.items():
        good, graded = good_or_better(counts, data)
        table_rows.append([name, *[counts.get(g, 0) for g in ids], good / graded if graded else None])
    header = [what, *[data.label(g) for g in ids], "Good or better"]
    top, last = book.table(sheet, header, table_rows, title, {len(ids) + 1: PERCENT}, empty="No audit graded yet.")
    if table_rows:
        _stacked(book, sheet, data, ids, title, grades_alt(data, title, what, rows, title), top, last, anchor)


def _summary_sheets(book: Book, data: ReportData, s: MonthStats, before: MonthStats) -> None:
    """The month's returns, its overall grades and the change since the month before,
    each a table (and chart) on a sheet of its own."""
    month = month_label(s.month)
    ws = book.sheet("Summary")
    _title(book, ws, f"Audits allocated in {month}, as at {data.as_of:%d/%m/%Y}")
    figures = [(label, s.figure(key)) for key, label in RETURN_FIGURES]
    more = [
        ("Not returned", s.allocated - s.returned),
        ("Awaiting amendment", s.awaiting_amendment),
        ("Overdue", s.overdue),
        ("Immediate safeguarding concerns", s.concerns),
    ]
    top, _ = book.table(ws, ["Audits", "Number"], [list(f) for f in [*figures, *more]], f"Returns {month}")
    title = f"Audits allocated and returned, {month}"
    _columns(book, ws, title, figures_alt(title, figures), top, top + len(figures), 1, "E2")
    _widths(ws, {0: 34, 1: 12})

    ws = book.sheet("Overall grades")
    caption = f"Overall grades of returned audits, {month}"
    _title(book, ws, caption)
    ids = grade_columns(data, [s.overall])
    pairs = [(data.label(g), s.overall.get(g, 0)) for g in ids]
    top, last = book.table(ws, ["Overall grade", "Audits"], [list(p) for p in pairs], caption)
    title = f"Overall grades, {month}"
    _pie(book, ws, data, ids, title, counts_alt(title, pairs), top, last, "E2")
    _widths(ws, {0: 26, 1: 12})

    ws = book.sheet("Change since last month")
    caption = f"Change since last month, {month_label(before.month)} to {month}"
    _title(book, ws, caption)
    top = ws.row
    ws.row += 1
    for key, label in RETURN_FIGURES:
        book.row(ws, [label, before.figure(key), s.figure(key), s.figure(key) - before.figure(key)])
    g_now, g_before = good_or_better(s.overall, data), good_or_better(before.overall, data)
    was = g_before[0] / g_before[1] if g_before[1] else None
    now_ = g_now[0] / g_now[1] if g_now[1] else None
    change = now_ - was if now_ is not None and was is not None else None
    book.row(ws, ["Good or better overall", was, now_, change], columns={1: PERCENT, 2: PERCENT, 3: CHANGE})
    book.define(ws, top, ["Figure", month_label(before.month), month, "Change"], caption)
    _widths(ws, {0: 34, 1: 16, 2: 16, 3: 16})


def _audit_values(a: Audit, data: ReportData) -> list[Any]:
    return [
        a.month,
        a.audit_id,
        data.tool(a.tool).title,
        a.case_reference,
        a.team,
        a.auditor,
        a.team_manager,
        a.due_date,
        a.state,
        uk_day(a.first_received) if a.first_received else None,
        ("yes" if a.on_time else "no") if a.returned else "",
        a.versions,
        "yes" if a.amended else "",
        a.current_status or ("overdue" if is_overdue(a, data) else "not returned"),
        _overall(a, data),
        "URGENT" if a.concern else "",
    ]


def _overall(a: Audit, data: ReportData) -> str:
    """The overall grade as the workbook shows it: blank or 'awaiting amendment' when
    there is none to count yet."""
    if not a.returned:
        return ""
    return data.label(a.overall) if a.graded else "awaiting amendment"


AUDIT_COLUMNS = [
    "Month", "Audit ID", "Tool", "Case reference", "Team", "Auditor", "Team manager", "Due", "State", "First returned",
    "On time", "Versions", "Needed amendment", "Current return", "Overall grade", "Immediate concern",
]  # fmt: skip
DATA_COLUMNS = ["Month", "Audit ID", "Tool", "Case reference", "Team", "Auditor", "Overall grade", "Domain", "Grade",
                "Evidence"]  # fmt: skip


def _data_sheet(book: Book, data: ReportData, audits: Sequence[Audit]) -> None:
    """One row per audit and domain of its own tool, filterable, with the evidence (the
    audit's other details are on the Audits sheet, one row per audit: the same audit id
    joins them)."""
    ws = book.sheet("Data")
    _widths(ws, dict(enumerate([9, 13, 22, 14, 26, 20, 20, 34, 20, 100])))
    ws.row = 1  # the header, written by ``define``
    rows = []
    for a in audits:
        overall = _overall(a, data) or "not returned"
        base = [a.month, a.audit_id, data.tool(a.tool).title, a.case_reference, a.team, a.auditor, overall]
        for d in data.domains_of(a.tool):
            grade = data.label(a.grade(d.id)) if a.graded else ""
            rows.append([*base, d.title, grade, a.text(f"domain.{d.id}.evidence") or ""])
    book.rows(ws, rows or [["No audits."]])
    book.define(ws, 0, DATA_COLUMNS, "Grades and evidence")
    ws.ws.freeze_panes(1, 0)


def _audits_sheet(book: Book, data: ReportData, audits: Sequence[Audit]) -> None:
    """One row per audit with its overall texts, concern and discussion."""
    ws = book.sheet("Audits")
    header = [*AUDIT_COLUMNS, "Good practice", "Areas for development", "Concern described", "Team manager notified",
              "Discussed with worker", "Discussed with manager"]  # fmt: skip
    _widths(ws, dict(enumerate([9, 13, 22, 14, 26, 20, 20, 11, 16, 11, 8, 8, 10, 16, 20, 10, 60, 60, 10, 12, 12, 12])))
    ws.row = 1
    rows = [
        [
            *_audit_values(a, data),
            a.text("overall.good_practice") or "",
            a.text("overall.development") or "",
            ("yes" if a.text("concern.details") else "no") if a.concern else "",
            a.text("concern.notified") or "",
            a.text("discussion.worker_date") or "",
            a.text("discussion.manager_date") or "",
        ]
        for a in audits
    ]
    book.rows(ws, rows or [["No audits."]])
    book.define(ws, 0, header, "Audits")
    ws.ws.freeze_panes(1, 0)


def _reaudit_sheet(book: Book, data: ReportData, audits: Sequence[Audit]) -> None:
    ws = book.sheet("Inadequate and re-audits")
    rows = []
    for audit in inadequate_cases(data, audits):
        for link in data.chain(audit):
            rows.append([audit.case_reference, link.month, link.audit_id, abbreviation(data, link.overall),
                         *[abbreviation(data, link.grade(d.id)) for d in data.domains]])  # fmt: skip
    # a big quarter's thousands of rows written as XML, as the data sheets' are: the table is the sheet
    ws.row = 1  # the header, written by ``define``
    book.rows(ws, rows or [[f"No case was judged {data.worst.label} and no re-audit was returned."]])
    book.define(ws, 0, ["Case", "Month", "Audit ID", "Overall", *[d.title for d in data.domains]],
                f"{data.worst.label} cases and re-audits")  # fmt: skip
    ws.ws.freeze_panes(1, 0)
    _widths(ws, {0: 14, 2: 13})


def _key_sheet(book: Book, data: ReportData) -> None:
    """What the grades mean (framework 2.7), with the short codes the tables use."""
    ws = book.sheet("Key")
    _title(book, ws, "What the grades mean")
    rows = [[g.label, abbreviation(data, g.id), g.definition] for g in [*data.grades, data.not_applicable]]
    rows.append(["Not graded", "–", "No grade given, or the audit is not returned or is awaiting amendment."])
    book.table(ws, ["Grade", "Short", "What it means"], rows, "What the grades mean", {2: WRAP})
    _widths(ws, {0: 24, 1: 8, 2: 90})


def _sheet_name(book: Book, title: str) -> str:
    """A sheet name from a title: Excel's 31 characters, none of []:*?/\\, not taken."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip(" '")[:31] or "Tool"
    taken = {s.name.lower() for s in book._sheets}
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base[: 31 - len(str(n)) - 3]} ({n})"
    return name


def _other_tools_sheets(book: Book, data: ReportData, stats: Sequence[MonthStats]) -> None:
    """Each other tool's overall grades by month and grades by domain (its own domains,
    those graded), on a sheet of its own: two titled tables and a chart."""
    for tool_id in dict.fromkeys(s.tool for s in stats):
        tool, months = data.tool(tool_id), [s for s in stats if s.tool == tool_id]
        ws = book.sheet(_sheet_name(book, tool.title))
        caption = f"{tool.title}: audits and overall grades by month"
        _title(book, ws, caption)
        ids = grade_columns(data, [s.overall for s in months])
        book.table(
            ws,
            ["Month", "Allocated", "Returned", "Awaiting amendment", *[data.label(g) for g in ids]],
            [[month_label(s.month, short=True), s.allocated, s.returned, s.awaiting_amendment,
              *[s.overall.get(g, 0) for g in ids]] for s in months],
            caption,
        )  # fmt: skip
        domains: dict[str, Counter[str | None]] = {d.title: Counter() for d in tool.domains}
        for d in tool.domains:
            for s in months:
                domains[d.title].update(s.domains[d.id])
        title = f"Grades by domain: {tool.title}"
        _title(book, ws, title)
        _grade_matrix(book, ws, data, "Domain", domains, title, "J2")
        _widths(ws, {0: 40})


#: A report's moderation section as the workbook shows it: its figures and the grades of
#: record moderation changed (see reports.moderation).
ModerationSection = tuple[ModerationFigures, Sequence[ChangedGrade]]
_MODERATION_SHEETS = (
    ("Moderation", "No moderated audit has a grade to compare."),
    ("Calibration", "No auditor's grades were moderated."),
    ("Moderation changes", "Moderation changed no audit's grade of record."),
)


def _moderation_sheets(book: Book, section: ModerationSection) -> None:
    """The moderation section's three tables, each on a sheet of its own: agreement per
    period and domain, each auditor's calibration, the grades of record changed."""
    tables = moderation_sheet_tables(*section)
    for (name, empty), (title, header, rows) in zip(_MODERATION_SHEETS, tables, strict=True):
        ws = book.sheet(_sheet_name(book, name))
        _title(book, ws, title)
        shares = {c: PERCENT for c, h in enumerate(header) if h.endswith("(share)")}
        book.table(ws, header, rows, title, shares, empty=empty)
        _widths(ws, {0: 26, 1: 36})


def _workbook(data: ReportData, title: str, period: str) -> Book:
    return Book(title, data.organisation, f"{data.service}: {period}, figures as at {data.as_of:%d/%m/%Y}")


def monthly_workbook(
    data: ReportData, config: Config, month: str, moderation: ModerationSection | None = None
) -> bytes:
    s, before = month_stats(data, month), month_stats(data, shift_month(month, -1))
    audits = data.of_month(month)
    book = _workbook(data, f"Audit data: {month_label(month)}", f"audits allocated in {month_label(month)}")
    _summary_sheets(book, data, s, before)
    ws = book.sheet("Domains")
    _grade_matrix(book, ws, data, "Domain", {d.title: s.domains[d.id] for d in data.domains}, "Grades by domain", "J2")
    _widths(ws, {0: 40})
    ws = book.sheet("Teams")
    _grade_matrix(book, ws, data, "Team", s.teams, "Overall grades by team", "J2")
    _widths(ws, {0: 34})
    _other_tools_sheets(book, data, [month_stats(data, month, t.id) for t in data.other_tools(audits)])
    _reaudit_sheet(book, data, audits)
    if moderation is not None:
        _moderation_sheets(book, moderation)
    _audits_sheet(book, data, audits)
    _data_sheet(book, data, audits)
    _key_sheet(book, data)
    return book.close()


def _trend(book: Book, ws: Sheet, title: str, what: str, months: Sequence[str], rows: dict[str, list[float | None]],
           anchor: str) -> None:  # fmt: skip
    """Rows × months of shares (0–1), and a line chart with one line per row, each with
    a marker and a dash of its own."""
    _title(book, ws, title)
    percent = {c: PERCENT for c in range(1, 1 + len(months))}
    labels = [month_label(m, short=True) for m in months]
    top, last = book.table(ws, [what, *labels], [[k, *v] for k, v in rows.items()], title, percent,
                           empty=f"No {what.lower()} graded in the period.")  # fmt: skip
    if not rows:
        return
    chart: Any = book.wb.add_chart({"type": "line"})
    for n, r in enumerate(range(top + 1, last + 1)):  # one series per row: the data runs along rows
        colour = charts.LINE_COLOURS[n % len(charts.LINE_COLOURS)]
        chart.add_series(
            {
                "name": _ref(ws, r, 0),
                "categories": _ref(ws, top, 1, top, len(months)),
                "values": _ref(ws, r, 1, r, len(months)),
                "line": {"color": colour, "width": 2, "dash_type": EXCEL_DASHES[n % len(EXCEL_DASHES)]},
                "marker": {"type": EXCEL_MARKERS[n % len(EXCEL_MARKERS)], "size": 7, "fill": {"color": colour},
                           "border": {"color": colour}},
            }
        )  # fmt: skip
    chart.set_y_axis({"name": "Good or better", "num_format": "0%"})
    series = [(k, [None if v is None else 100 * v for v in values]) for k, values in rows.items()]
    _insert(ws, chart, anchor, title, trend_alt(title, labels, series, title), LINE_SIZE)


def trend_rows(data: ReportData, stats: Sequence[MonthStats], of: str) -> dict[str, list[float | None]]:
    """Share Good or better per month, per domain (``of`` 'domain') or team ('team')."""

    def pct(c: Counter[str | None]) -> float | None:
        good, graded = good_or_better(c, data)
        return good / graded if graded else None

    if of == "domain":
        rows = {d.title: [pct(s.domains[d.id]) for s in stats] for d in data.domains_of(stats[0].tool)} if stats else {}
    else:
        teams = sorted({t for s in stats for t in s.teams})
        rows = {t: [pct(s.teams.get(t, Counter())) for s in stats] for t in teams}
    return {name: values for name, values in rows.items() if any(v is not None for v in values)}


def quarterly_workbook(
    data: ReportData, config: Config, quarter: str, moderation: ModerationSection | None = None
) -> bytes:
    stats = [month_stats(data, m) for m in data.months]
    book = _workbook(data, f"Quarterly audit data: {quarter}", f"audits allocated in {quarter}")
    months = [month_label(s.month, short=True) for s in stats]
    ws = book.sheet("Returns by month")
    caption = f"Audits by month, {quarter}"
    _title(book, ws, caption)
    top, last = book.table(
        ws,
        ["Month", *[label for _, label in RETURN_FIGURES]],
        [[m, *[s.figure(k) for k, _ in RETURN_FIGURES]] for m, s in zip(months, stats, strict=True)],
        caption,
    )
    title = "Audits allocated and returned by month"
    figures = [label for _, label in RETURN_FIGURES]
    series = [(m, [s.figure(k) for k, _ in RETURN_FIGURES]) for m, s in zip(months, stats, strict=True)]
    _columns(book, ws, title, by_month_alt(title, figures, series, caption), top, last, len(RETURN_FIGURES), "H2")
    _widths(ws, {0: 14})
    ws = book.sheet("Grades by month")
    title = f"Overall grades by month, {quarter}"
    _title(book, ws, title)
    ids = grade_columns(data, [s.overall for s in stats])
    top, last = book.table(
        ws,
        ["Month", *[data.label(g) for g in ids]],
        [[m, *[s.overall.get(g, 0) for g in ids]] for m, s in zip(months, stats, strict=True)],
        title,
    )
    alt = grades_alt(data, title, "month", {m: s.overall for m, s in zip(months, stats, strict=True)}, title)
    _stacked(book, ws, data, ids, title, alt, top, last, "H2")
    _widths(ws, {0: 14})
    ws = book.sheet("Domain trends")
    _trend(book, ws, "Good or better by domain", "Domain", data.months, trend_rows(data, stats, "domain"), "F2")
    _widths(ws, {0: 40})
    ws = book.sheet("Team trends")
    _trend(book, ws, "Good or better by team", "Team", data.months, trend_rows(data, stats, "team"), "F2")
    _widths(ws, {0: 34})
    _other_tools_sheets(
        book, data, [month_stats(data, m, t.id) for t in data.other_tools(data.audits) for m in data.months]
    )
    _reaudit_sheet(book, data, data.audits)
    if moderation is not None:
        _moderation_sheets(book, moderation)
    _audits_sheet(book, data, data.audits)
    _data_sheet(book, data, data.audits)
    _key_sheet(book, data)
    return book.close()
