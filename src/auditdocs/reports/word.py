"""Render a report into the Word template ``templates/report.docx``.

The template is prepared once per process (``ooxml.report``: docxtpl's tag clean-up,
Jinja compiled) and each report is one Jinja render of it.  Every value shown is
XML-escaped once (``ooxml.report.report_value``, Jinja's finalize), so evidence holding
``&``, ``<`` or ``{{ ... }}`` comes out literally (values are data, never template code);
so is what a template's own ``{% set %}`` block or macro makes: text, never XML.  Texts were cleaned of control
characters when the blocks were built (``content.clean``).

The report is titled as it is headed, by its organisation, in British English; each
chart picture carries its title and its figures in words (its alternative text); a
table too wide for its words at the template's size is shown as its "wide_table".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import TemplateError as JinjaError

from auditdocs.dates import now
from auditdocs.errors import TemplateError
from auditdocs.files import display
from auditdocs.ooxml.properties import CoreProperties
from auditdocs.ooxml.report import Picture, PreparedReport, prepared_report
from auditdocs.reports.content import Chart, Document, Heading, Para, Table

CHART_WIDTH_MM = 165
REPORT_TEMPLATE = "report.docx"


def _block(template: PreparedReport, block: object, pictures: list[Picture]) -> dict[str, Any]:
    if isinstance(block, Heading):
        return {"kind": "heading1" if block.level == 1 else "heading2", "text": block.text}
    if isinstance(block, Para):
        return {"kind": block.style, "text": block.text}
    if isinstance(block, Chart):
        pictures.append(Picture(block.png, CHART_WIDTH_MM, block.alt, block.title))
        return {"kind": "chart", "image": template.picture(len(pictures) - 1, pictures[-1])}
    if isinstance(block, Table):
        if not block.rows:
            return {"kind": "note", "text": block.empty}
        kind = template.table_kind(block.header, block.rows)
        return {"kind": kind, "caption": block.caption, "header": block.header, "rows": block.rows}
    raise TypeError(f"not a report block: {block!r}")


def render_word(doc: Document, template: Path) -> bytes:
    """The report as .docx bytes, from the given template."""
    try:
        prepared = prepared_report(template)
        pictures: list[Picture] = []
        context = {
            "report": {
                "title": doc.title,
                "subtitle": doc.subtitle,
                "period": doc.period,
                "organisation": doc.organisation,
                "service": doc.service,
                "kind": doc.kind,
            },
            "blocks": [_block(prepared, b, pictures) for b in doc.blocks],
        }
        tables = [(t.header, t.rows) for t in doc.tables() if t.rows]
        return prepared.render(context, pictures, tables, CoreProperties(doc.title, doc.organisation, now()))
    except TemplateError as exc:
        raise TemplateError(f"{display(template)}: cannot render the report with this template ({exc})") from None
    except (JinjaError, KeyError, ValueError, OSError) as exc:
        raise TemplateError(
            f"{display(template)}: cannot render the report with this template ({type(exc).__name__}: {exc}); "
            "keep its {%p ...%}, {%tr ...%} and {%tc ...%} tags as shipped"
        ) from None
