"""Build the default Word templates shipped in ``templates/``.

The .docx files are committed; this module is how they were made and how to make
them again (``python -m auditdocs.templates_default templates/``).  A QA officer
restyles the files in Word: fonts, logo, header and footer, intro text.  Two things
must stay: the ``{{ ... }}`` placeholders (inside locked content controls) and the
paragraph ``[[auditdocs:form]]`` where the form's domains and fields are inserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.shared import Cm, Pt, RGBColor

from auditdocs.ooxml.namespaces import W
from auditdocs.ooxml.text import attr

FORM_MARKER = "[[auditdocs:form]]"

CASE_DETAILS = [
    ("Case reference", "case.reference", "case.reference"),
    ("Child ID", "case.child_id", "case.child_id"),
    ("Team", "case.team", "case.team"),
    ("Allocated worker", "case.worker", "case.worker"),
    ("Team manager", "case.team_manager", "case.team_manager"),
    ("Auditor", "auditor.name", "auditor.name"),
    ("Audit period", "audit.period", "audit.period"),
    ("Return by", "audit.due", "audit.due"),
    ("Audit ID", "audit.id", "audit.id"),
]


def _locked_control(label: str, tag: str, expr: str, sdt_id: int) -> str:
    """A locked content control holding a docxtpl placeholder: prefilled, not editable."""
    return (
        f'<w:sdt xmlns:w="{W}"><w:sdtPr><w:alias w:val={attr(label)}/><w:tag w:val={attr(tag)}/>'
        f'<w:id w:val="{sdt_id}"/><w:lock w:val="sdtContentLocked"/></w:sdtPr>'
        f'<w:sdtContent><w:r><w:t xml:space="preserve">{{{{ {expr} }}}}</w:t></w:r></w:sdtContent></w:sdt>'
    )


def _styles(doc) -> None:  # type: ignore[no-untyped-def]
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    guidance = doc.styles.add_style("Guidance", WD_STYLE_TYPE.PARAGRAPH)
    guidance.base_style = normal
    guidance.font.italic = True
    guidance.font.size = Pt(9.5)
    guidance.font.color.rgb = RGBColor(0x40, 0x40, 0x40)
    placeholder = doc.styles.add_style("Placeholder Text", WD_STYLE_TYPE.CHARACTER)
    placeholder.font.color.rgb = RGBColor(0x80, 0x80, 0x80)
    for name, size in (("Heading 1", 13), ("Title", 20)):
        doc.styles[name].font.name = "Arial"
        doc.styles[name].font.size = Pt(size)


def _page(doc, footer_text: str) -> None:  # type: ignore[no-untyped-def]
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    header = section.header.paragraphs[0]
    header.text = "{{ organisation.name }} · {{ organisation.service }}\tOFFICIAL – SENSITIVE"
    footer = section.footer.paragraphs[0]
    footer.text = footer_text


def _details_table(doc) -> None:  # type: ignore[no-untyped-def]
    table = doc.add_table(rows=0, cols=2)
    table.style = doc.styles["Table Grid"]
    for n, (label, tag, expr) in enumerate(CASE_DETAILS, 1):
        row = table.add_row()
        row.cells[0].width, row.cells[1].width = Cm(5), Cm(12)
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.cells[1].paragraphs[0]._p.append(parse_xml(_locked_control(label, tag, expr, n)))


def build(path: Path, title: str, footer: str) -> None:
    doc = Document()
    _styles(doc)
    _page(doc, footer)
    doc.add_paragraph(title, style="Title")
    doc.add_paragraph("{{ tool.intro }}")
    doc.add_heading("Case details", level=1)
    _details_table(doc)
    doc.add_paragraph(
        "The details above are filled in for you and locked. Fill in every grey field "
        "below; choose grades from the lists and tick what you saw on the file.",
        style="Guidance",
    )
    doc.add_paragraph(FORM_MARKER)
    doc.save(str(path))


def build_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name, title, footer in (
        ("audit_tool.docx", "{{ tool.title }}", "{{ tool.title }} · audit {{ audit.id }}"),
        (
            "improvement_plan.docx",
            "Improvement plan: {{ tool.title }}",
            "Improvement plan · audit {{ audit.id }}",
        ),
    ):
        build(folder / name, title, footer)
        made.append(folder / name)
    return made


if __name__ == "__main__":  # pragma: no cover
    for p in build_all(Path(sys.argv[1] if len(sys.argv) > 1 else "templates")):
        print(p)
