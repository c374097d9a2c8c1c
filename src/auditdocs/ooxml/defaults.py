"""Build the default Word templates shipped in ``templates/``.

The .docx files are committed; this module is how they were made and how to make
them again (``python -m auditdocs.ooxml.defaults templates/``).  A QA officer
restyles the files in Word: fonts, logo, header and footer, intro text.  Two things
must stay: the ``{{ ... }}`` placeholders (inside locked content controls) and the
paragraph ``[[auditdocs:form]]`` where the form's domains and fields are inserted.  The
``{%tr ... %}`` rows around the child id and the ``{%p ... %}`` paragraphs of the
re-audit note may be restyled or removed, but not split.

``report.docx`` is the template of every report (monthly highlights, quarterly report,
learning bulletin): a title, then a loop over the report's blocks (headings,
paragraphs, charts, tables) written with docxtpl tags.  Restyle it freely (styles
Title, Subtitle, Heading 1/2, Normal, List Bullet, Quote, Caption, Report Note, Report
Chart, the table's style and header shading, header, footer, logo) and add fixed
text before or after the loop; keep the ``{%p ... %}``, ``{%tr ... %}`` and
``{%tc ... %}`` paragraphs, rows and cells as they are.  Its second table ("wide_table",
in smaller type) shows the tables whose words would not fit side by side in the first:
column widths are worked out from the size each table's values are in.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.shared import Cm, Pt, RGBColor

from auditdocs.dates import now
from auditdocs.ooxml.namespaces import W
from auditdocs.ooxml.properties import CORE_PART, GENERATOR, CoreProperties, settings_in_language, styles_in_language
from auditdocs.ooxml.text import attr

FORM_MARKER = "[[auditdocs:form]]"

#: The prefilled details: (label, content control tag and alias, placeholder).  Labels
#: are placeholders too: each tool names what it is about (a case or a worker) its own way.
#: A control's alias cannot be a placeholder (it is an attribute), so it is a neutral name.
CASE_DETAILS = [
    ("{{ labels.reference }}", "case.reference", "Reference", "case.reference"),
    ("{{ labels.child_id }}", "case.child_id", "Child ID", "case.child_id"),
    ("Team", "case.team", "Team", "case.team"),
    ("{{ labels.worker }}", "case.worker", "Worker", "case.worker"),
    ("Team manager", "case.team_manager", "Team manager", "case.team_manager"),
    ("{{ labels.auditor }}", "auditor.name", "Auditor", "auditor.name"),
    ("{{ labels.period }}", "audit.period", "Period", "audit.period"),
    ("Return by", "audit.due", "Return by", "audit.due"),
    ("Audit ID", "audit.id", "Audit ID", "audit.id"),
]
#: Rows shown only when the label is given (no child id for an audit about a worker).
OPTIONAL_DETAILS = {"case.child_id": "labels.child_id"}
#: The details table's header row (a screen reader reads it with each value).
DETAILS_HEADER = ("Detail", "Filled in for you (locked)")
HEADER_FILL = "D9E2F3"  # the form body's header rows' shading (ooxml.body)


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
    header = table.add_row()
    header._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader xmlns:w="{W}"/>'))
    for cell, text, width in zip(header.cells, DETAILS_HEADER, (Cm(5), Cm(12)), strict=True):
        cell.width = width
        cell.paragraphs[0].add_run(text).bold = True
        shade = f'<w:shd xmlns:w="{W}" w:val="clear" w:color="auto" w:fill="{HEADER_FILL}"/>'
        cell._tc.get_or_add_tcPr().append(parse_xml(shade))
    for n, (label, tag, alias, expr) in enumerate(CASE_DETAILS, 1):
        condition = OPTIONAL_DETAILS.get(tag)
        if condition:  # docxtpl replaces a row holding {%tr ... %} by the tag alone
            table.add_row().cells[0].paragraphs[0].add_run(f"{{%tr if {condition} %}}")
        row = table.add_row()
        row.cells[0].width, row.cells[1].width = Cm(5), Cm(12)
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.cells[1].paragraphs[0]._p.append(parse_xml(_locked_control(alias, tag, expr, n)))
        if condition:
            table.add_row().cells[0].paragraphs[0].add_run("{%tr endif %}")


def _reaudit(doc) -> None:  # type: ignore[no-untyped-def]
    """The audit a re-audit repeats (2.12): shown only on a re-audit's documents."""
    doc.add_paragraph("{%p if reaudit %}")
    doc.add_heading("Re-audit", level=1)
    doc.add_paragraph("{{ reaudit.summary }}")
    for items, heading in (
        ("reaudit.grades", "reaudit.grades_heading"),
        ("reaudit.actions", "reaudit.actions_heading"),
    ):
        doc.add_paragraph(f"{{%p if {items} %}}")
        doc.add_paragraph(f"{{{{ {heading} }}}}").runs[0].bold = True
        doc.add_paragraph(f"{{%p for item in {items} %}}")
        doc.add_paragraph("{{ item }}", style="List Bullet")
        doc.add_paragraph("{%p endfor %}")
        doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p endif %}")


def _moderated(doc) -> None:  # type: ignore[no-untyped-def]
    """An open moderation's view of the audit moderated: the auditor's grades and evidence
    as text (never fields: nothing of it is read back).  A blind moderation has none."""
    doc.add_paragraph("{%p if moderation.shown %}")
    doc.add_heading("The auditor's grades and evidence", level=1)
    doc.add_paragraph("{{ moderation.shown_note }}", style="Guidance")
    doc.add_paragraph("{%p for item in moderation.shown %}")
    doc.add_paragraph("{{ item.heading }}").runs[0].bold = True
    doc.add_paragraph("{{ item.text }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p endif %}")


def build(
    path: Path,
    title: str,
    footer: str,
    intro: str = "{{ tool.intro }}",
    instructions: str = "{{ audit.instructions }}",
    moderation: bool = False,
) -> None:
    """A form template: title, intro, the prefilled details, the re-audit note (or, on a
    moderation form, the audit moderated as an open moderation shows it), the instructions
    and the marker where the form goes."""
    doc = Document()
    _styles(doc)
    _page(doc, footer)
    doc.add_paragraph(title, style="Title")
    doc.add_paragraph(intro)
    doc.add_heading("{{ labels.details }}", level=1)
    _details_table(doc)
    _moderated(doc) if moderation else _reaudit(doc)
    doc.add_paragraph(instructions, style="Guidance")
    doc.add_paragraph(FORM_MARKER)
    doc.save(str(path))


#: The report's block kinds and the paragraph style each is written in.
REPORT_BLOCK_STYLES = (
    ("heading1", "Heading 1"),
    ("heading2", "Heading 2"),
    ("bullet", "List Bullet"),
    ("quote", "Quote"),
    ("note", "Report Note"),
    ("chart", "Report Chart"),
)


def _cell_text(cell, text: str, bold: bool = False, shade: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Put a docxtpl tag in a cell; widths are left to the table grid (docxtpl resizes
    it when a column loop makes more or fewer cells than the template has)."""
    cell.paragraphs[0].add_run(text).bold = bold
    tc_pr = cell._tc.get_or_add_tcPr()
    for width in tc_pr.findall(f"{{{W}}}tcW"):
        tc_pr.remove(width)
    if shade:
        tc_pr.append(parse_xml(f'<w:shd xmlns:w="{W}" w:val="clear" w:color="auto" w:fill="{shade}"/>'))


#: The wide table (a table whose words do not fit side by side at the report's size):
#: its type size (points) and its cells' left and right margins (twips, 0.1 cm).
WIDE_TABLE_SIZE, WIDE_TABLE_MARGIN = 8, 57


def _report_table(doc, wide: bool = False) -> None:  # type: ignore[no-untyped-def]
    """One table that every table block is rendered into: a header row and a body row,
    each a column loop, the body row inside a row loop.  ``wide``: the table for tables
    with many columns, in smaller type with narrower cell margins."""
    table = doc.add_table(rows=4, cols=3)
    table.style = doc.styles["Table Grid"]
    tbl_pr = table._tbl.tblPr
    for old in tbl_pr.findall(f"{{{W}}}tblW"):
        tbl_pr.remove(old)
    style = tbl_pr.find(f"{{{W}}}tblStyle")
    width = parse_xml(f'<w:tblW xmlns:w="{W}" w:w="5000" w:type="pct"/>')
    # Schema order (CT_TblPr): tblW right after tblStyle, before tblLook (tblCellMar too).
    tbl_pr.insert(0 if style is None else list(tbl_pr).index(style) + 1, width)
    if wide:
        margins = parse_xml(
            f'<w:tblCellMar xmlns:w="{W}"><w:left w:w="{WIDE_TABLE_MARGIN}" w:type="dxa"/>'
            f'<w:right w:w="{WIDE_TABLE_MARGIN}" w:type="dxa"/></w:tblCellMar>'
        )
        width.addnext(margins)
    header, loop, body, end = table.rows
    header._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader xmlns:w="{W}"/>'))
    for row, (first, middle, last) in (
        (header, ("{%tc for h in b.header %}", "{{ h }}", "{%tc endfor %}")),
        (loop, ("{%tr for row in b.rows %}", "", "")),
        (body, ("{%tc for c in row %}", "{{ c }}", "{%tc endfor %}")),
        (end, ("{%tr endfor %}", "", "")),
    ):
        is_header = row is header
        _cell_text(row.cells[0], first)
        _cell_text(row.cells[1], middle, bold=is_header, shade="DCE6F1" if is_header else None)
        if wide and middle:
            row.cells[1].paragraphs[0].runs[0].font.size = Pt(WIDE_TABLE_SIZE)
        _cell_text(row.cells[2], last)
        if row is body:
            row._tr.get_or_add_trPr().append(parse_xml(f'<w:cantSplit xmlns:w="{W}"/>'))


def build_report(path: Path) -> None:
    """templates/report.docx: the restylable template of every report."""
    doc = Document()
    _styles(doc)
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    section.header.paragraphs[0].text = "{{ report.organisation }} · {{ report.service }}\tOFFICIAL – SENSITIVE"
    footer = section.footer.paragraphs[0]
    footer.text = "{{ report.title }} · page "
    footer._p.append(parse_xml(f'<w:fldSimple xmlns:w="{W}" w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    note = doc.styles.add_style("Report Note", WD_STYLE_TYPE.PARAGRAPH)
    note.base_style = doc.styles["Normal"]
    note.font.italic = True
    note.font.size = Pt(9)
    note.font.color.rgb = RGBColor(0x40, 0x40, 0x40)
    chart = doc.styles.add_style("Report Chart", WD_STYLE_TYPE.PARAGRAPH)
    chart.base_style = doc.styles["Normal"]
    chart.paragraph_format.alignment = 1  # centred
    chart.paragraph_format.keep_with_next = True
    doc.styles["Heading 2"].font.name = "Arial"
    doc.styles["Caption"].paragraph_format.keep_with_next = True
    doc.add_paragraph("{{ report.title }}", style="Title")
    doc.add_paragraph("{{ report.organisation }} · {{ report.subtitle }}", style="Subtitle")
    doc.add_paragraph("{%p for b in blocks %}")
    for n, (kind, style) in enumerate(REPORT_BLOCK_STYLES):
        doc.add_paragraph(("{%p if" if n == 0 else "{%p elif") + f' b.kind == "{kind}" %}}')
        doc.add_paragraph("{{ b.image }}" if kind == "chart" else "{{ b.text }}", style=style)
    doc.add_paragraph('{%p elif b.kind == "table" %}')
    doc.add_paragraph("{{ b.caption }}", style="Caption")
    _report_table(doc)
    doc.add_paragraph('{%p elif b.kind == "wide_table" %}')
    doc.add_paragraph("{{ b.caption }}", style="Caption")
    _report_table(doc, wide=True)
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("{{ b.text }}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p endfor %}")
    doc.save(str(path))


#: Parts of python-docx's default template that a form does not need: Word 2010's
#: duplicate style sheet, a thumbnail and an empty bibliography (together about 450 KB
#: that every generated form and every parse would otherwise carry).
_UNNEEDED = (
    "word/stylesWithEffects.xml",
    "docProps/thumbnail.jpeg",
    "customXml/item1.xml",
    "customXml/itemProps1.xml",
    "customXml/_rels/item1.xml.rels",
)
_KEEP_TABLE_STYLES = {"TableNormal", "TableGrid"}


def slim(path: Path, title: str = "") -> None:
    """Drop the parts above, and the 98 table styles the forms never use (340 KB), from a
    template python-docx wrote; relationships and content types follow.  Its properties
    say what it is (``title``), made by auditdocs now, in British English."""
    from lxml import etree

    from auditdocs.ooxml import namespaces as ns

    src = zipfile.ZipFile(path)
    parts = {n: src.read(n) for n in src.namelist() if n not in _UNNEEDED}
    src.close()
    targets = {n.rsplit("/", 1)[-1] for n in _UNNEEDED}
    for name in [n for n in parts if n.endswith(".rels")]:
        rels = etree.fromstring(parts[name])
        for rel in list(rels):
            if rel.get("Target", "").rsplit("/", 1)[-1] in targets:
                rels.remove(rel)
        parts[name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    types = etree.fromstring(parts["[Content_Types].xml"])
    for override in list(types):
        if override.get("PartName", "").lstrip("/") in _UNNEEDED:
            types.remove(override)
    parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    styles = etree.fromstring(parts["word/styles.xml"])
    w = f"{{{ns.W}}}"
    for style in styles.findall(f"{w}style"):
        if style.get(f"{w}type") == "table" and style.get(f"{w}styleId") not in _KEEP_TABLE_STYLES:
            styles.remove(style)
    parts["word/styles.xml"] = etree.tostring(styles, xml_declaration=True, encoding="UTF-8", standalone=True)
    # python-docx's default settings write <w:zoom w:val="bestFit"/>; w:percent is required.
    settings = etree.fromstring(parts["word/settings.xml"])
    for zoom in settings.iter(f"{w}zoom"):
        zoom.set(f"{w}percent", "100")
    parts["word/settings.xml"] = settings_in_language(
        etree.tostring(settings, xml_declaration=True, encoding="UTF-8", standalone=True)
    )
    parts["word/styles.xml"] = styles_in_language(parts["word/styles.xml"])
    parts[CORE_PART] = CoreProperties(title, GENERATOR, now()).xml()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)


def build_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name, title, footer, intro, instructions in (
        (
            "audit_tool.docx",
            "{{ tool.title }}",
            "{{ tool.title }} · audit {{ audit.id }}",
            "{{ tool.intro }}",
            "{{ audit.instructions }}",
        ),
        (
            "improvement_plan.docx",
            "Improvement plan: {{ tool.title }}",
            "Improvement plan · audit {{ audit.id }}",
            "{{ plan.intro }}",
            "{{ plan.instructions }}",
        ),
    ):
        build(folder / name, title, footer, intro, instructions)
        made.append(folder / name)
    build(
        folder / "moderation.docx",
        "Moderation: {{ tool.title }}",
        "Moderation · audit {{ audit.id }}",
        "{{ moderation.intro }}",
        "{{ moderation.instructions }}",
        moderation=True,
    )
    made.append(folder / "moderation.docx")
    build_report(folder / "report.docx")
    made.append(folder / "report.docx")
    titles = {
        "audit_tool.docx": "Audit tool template",
        "improvement_plan.docx": "Improvement plan template",
        "moderation.docx": "Moderation form template",
        "report.docx": "Audit report",  # a report may give itself a title of its own
    }
    for path in made:
        slim(path, titles[path.name])
    return made


if __name__ == "__main__":  # pragma: no cover
    for p in build_all(Path(sys.argv[1] if len(sys.argv) > 1 else "templates")):
        print(p)
