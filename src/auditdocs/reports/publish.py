"""Write the reports: the Word, Excel and HTML files of a month or a quarter.

``monthly_report(ws, "2026-11")`` writes the month's Audit Highlights Report (Word),
its data workbook (Excel, with native charts) and a self-contained HTML dashboard
under ``output/reports/2026-11/``; ``quarterly_report(ws, "2026Q4")`` writes the
quarterly report with trends, the learning bulletin, a workbook and a dashboard
under ``output/reports/2026Q4/``.  Every file is readable by its owner only.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from auditdocs.dates import check_month, parse_quarter, shift_month, uk_today
from auditdocs.files import write_private
from auditdocs.reports.bulletin import bulletin_document
from auditdocs.reports.data import load_report_data
from auditdocs.reports.excel import monthly_workbook, quarterly_workbook
from auditdocs.reports.html import render_html
from auditdocs.reports.moderation import moderation_blocks
from auditdocs.reports.moderation_data import moderation_section_data
from auditdocs.reports.monthly import monthly_document
from auditdocs.reports.quarterly import quarterly_document
from auditdocs.reports.word import render_word
from auditdocs.workspace import Workspace, bundled_root


def report_template(ws: Workspace) -> Path:
    """The workspace's templates/report.docx, or the shipped one for older workspaces."""
    own = ws.templates_dir / "report.docx"
    return own if own.exists() else bundled_root() / "templates" / "report.docx"


def _folder(ws: Workspace, name: str) -> Path:
    folder = ws.output_dir / "reports" / name
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":  # Windows's chmod only sets the read-only flag: the folder's ACL protects it
        folder.chmod(0o700)
        folder.parent.chmod(0o700)
    return folder


def monthly_report(ws: Workspace, month: str, *, as_of: date | None = None) -> list[Path]:
    """The month's highlights report (.docx), workbook (.xlsx) and dashboard (.html).

    ``as_of`` (default today) is the date overdue audits and discussions are judged at.
    """

    month = check_month(month)
    config = ws.config
    data = load_report_data(ws.store(), config, [shift_month(month, -1), month], as_of or uk_today())
    doc = monthly_document(data, config, month)
    doc.add(*moderation_blocks(*moderation_section_data(ws.store(), config, [month])))
    folder = _folder(ws, month)
    paths = [
        folder / f"{month} audit highlights report.docx",
        folder / f"{month} audit data.xlsx",
        folder / f"{month} dashboard.html",
    ]
    write_private(paths[0], render_word(doc, report_template(ws)))
    write_private(paths[1], monthly_workbook(data, config, month))
    write_private(paths[2], render_html(doc).encode("utf-8"))
    return paths


def quarterly_report(ws: Workspace, quarter: str, *, as_of: date | None = None) -> list[Path]:
    """The quarter's report (.docx), learning bulletin (.docx), workbook and dashboard."""

    name, months = parse_quarter(quarter)
    config = ws.config
    data = load_report_data(ws.store(), config, months, as_of or uk_today())
    doc = quarterly_document(data, config, name)
    doc.add(*moderation_blocks(*moderation_section_data(ws.store(), config, months)))
    bulletin = bulletin_document(data, name)
    folder = _folder(ws, name)
    template = report_template(ws)
    paths = [
        folder / f"{name} quarterly audit report.docx",
        folder / f"{name} learning bulletin.docx",
        folder / f"{name} audit data.xlsx",
        folder / f"{name} dashboard.html",
    ]
    write_private(paths[0], render_word(doc, template))
    write_private(paths[1], render_word(bulletin, template))
    write_private(paths[2], quarterly_workbook(data, config, name))
    write_private(paths[3], render_html(doc, bulletin).encode("utf-8"))
    return paths
