"""Reports for leadership and staff, from the store.

``monthly_report(ws, "2026-11")`` writes the month's Audit Highlights Report (Word),
its data workbook (Excel, with native charts) and a self-contained HTML dashboard
under ``output/reports/2026-11/``; ``quarterly_report(ws, "2026Q4")`` writes the
quarterly report with trends, the learning bulletin, a workbook and a dashboard
under ``output/reports/2026Q4/``.  Every file is readable by its owner only.

``data`` reads the store, ``stats`` counts, ``sections``/``monthly``/``quarterly``/
``bulletin`` lay out documents (``content``), and ``word``/``excel``/``html``/``charts``
render them; ``publish`` writes the files.
"""

from auditdocs.reports.publish import monthly_report, quarterly_report

__all__ = ["monthly_report", "quarterly_report"]
