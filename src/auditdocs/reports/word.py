"""Render a report into the Word template ``templates/report.docx`` with docxtpl.

Autoescape is on: every value is XML-escaped by Jinja, so evidence holding ``&``,
``<`` or ``{{ ... }}`` comes out literally (values are data, never template code).
Texts were cleaned of control characters when the blocks were built (``content.clean``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from docx.oxml.ns import qn
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import TemplateError as JinjaError

from auditdocs.errors import TemplateError
from auditdocs.paths import display
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


def _fit_columns(table: Any) -> None:
    """Share the table's width among its columns by the length of what they hold
    (the template's grid gives every column the same width)."""
    grid = table.find(qn("w:tblGrid"))
    if grid is None:
        return
    cols = grid.findall(qn("w:gridCol"))
    longest = [4] * len(cols)
    for r, tr in enumerate(table.iter(qn("w:tr"))):
        for n, tc in enumerate(tr.findall(qn("w:tc"))[: len(cols)]):
            text = "".join(t.text or "" for t in tc.iter(qn("w:t")))
            word = max((len(w) for w in text.split()), default=0) + 1
            # a header may wrap between words; body text wraps past a few words
            longest[n] = max(longest[n], word if r == 0 else max(word, min(len(text), 28)))
    total = sum(int(float(c.get(qn("w:w")) or 0)) for c in cols)
    if not total:
        return
    sizes = [n + 2 for n in longest]  # cell margins
    for col, size in zip(cols, sizes, strict=True):
        col.set(qn("w:w"), str(int(total * size / sum(sizes))))


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
    # Alternative text for every chart, in order (screen readers; Word's accessibility check).
    alts = iter(c.alt for c in doc.charts())
    for pr in tpl.docx.element.body.iter(qn("wp:docPr")):
        alt = next(alts, None)
        if alt is not None:
            pr.set("descr", alt)
    for table in tpl.docx.element.body.iter(qn("w:tbl")):
        _fit_columns(table)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()
