"""Render a report into the Word template ``templates/report.docx`` with docxtpl.

Autoescape is on: every value is XML-escaped by Jinja, so evidence holding ``&``,
``<`` or ``{{ ... }}`` comes out literally (values are data, never template code).
Texts were cleaned of control characters when the blocks were built (``content.clean``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import TemplateError as JinjaError

from auditdocs.errors import TemplateError
from auditdocs.files import display
from auditdocs.ooxml.finish import describe_pictures, fit_table_columns, order_table_properties
from auditdocs.reports.content import Chart, Document, Heading, Para, Table

CHART_WIDTH = Mm(165)
REPORT_TEMPLATE = "report.docx"


def _block(tpl: DocxTemplate, block: object) -> dict[str, Any]:
    if isinstance(block, Heading):
        return {"kind": "heading1" if block.level == 1 else "heading2", "text": block.text}
    if isinstance(block, Para):
        return {"kind": block.style, "text": block.text}
    if isinstance(block, Chart):
        return {"kind": "chart", "image": InlineImage(tpl, io.BytesIO(block.png), width=CHART_WIDTH)}
    if isinstance(block, Table):
        if not block.rows:
            return {"kind": "note", "text": block.empty}
        return {"kind": "table", "caption": block.caption, "header": block.header, "rows": block.rows}
    raise TypeError(f"not a report block: {block!r}")


def render_word(doc: Document, template: Path) -> bytes:
    """The report as .docx bytes, from the given template."""
    try:
        tpl = DocxTemplate(str(template))
        context = {
            "report": {
                "title": doc.title,
                "subtitle": doc.subtitle,
                "period": doc.period,
                "organisation": doc.organisation,
                "service": doc.service,
                "kind": doc.kind,
            },
            "blocks": [_block(tpl, b) for b in doc.blocks],
        }
        tpl.render(context, autoescape=True)
    except (JinjaError, KeyError, ValueError, OSError) as exc:
        raise TemplateError(
            f"{display(template)}: cannot render the report with this template ({type(exc).__name__}: {exc}); "
            "keep its {%p ...%}, {%tr ...%} and {%tc ...%} tags as shipped"
        ) from None
    body = tpl.docx.element.body
    describe_pictures(body, [c.alt for c in doc.charts()])
    fit_table_columns(body)
    order_table_properties(body)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()
