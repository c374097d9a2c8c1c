"""Render a form layout into WordprocessingML: headings, guidance, tables, content controls.

Built once per tool type as a string; the per-case render never touches it.
Content controls follow what Word 2010+ writes: drop-down lists (item value = the
value we parse back), w14 checkboxes, date pickers, plain and rich text.  Plain-text,
drop-down, date and checkbox controls are bound (``w:dataBinding``) to our custom XML
part: LibreOffice drops every ``w:tag`` but keeps the binding, so the binding xpath
is a key the parser can fall back on.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditdocs.forms.layout import Block, Cell, Field, Heading, Key, Layout, Paragraph, Table
from auditdocs.ooxml.binding import form_xml
from auditdocs.ooxml.namespaces import FORM_NS
from auditdocs.ooxml.text import attr, paragraph, run

#: Total table width in twentieths of a point (A4 with 2 cm margins ≈ 9638).
TABLE_WIDTH = 9638
CHECKED = "\u2612"  # ☒
UNCHECKED = "\u2610"  # ☐
_PLACEHOLDER_RPR = '<w:rPr><w:rStyle w:val="PlaceholderText"/></w:rPr>'
# Free text is not bound: LibreOffice 7.4 writes a bound text control's content into the
# custom XML part unescaped, so one "&" typed there empties every custom XML part.
_BOUND_KINDS = ("dropdown", "date", "checkbox")


@dataclass(frozen=True)
class Binding:
    """Where bound controls point: the custom XML part's store item id."""

    store_item_id: str

    def xpath(self, index: int) -> str:
        return f"/ad:form[1]/ad:values[1]/ad:v[{index}]"

    def element(self, index: int) -> str:
        return (
            f"<w:dataBinding w:prefixMappings=\"xmlns:ad='{FORM_NS}'\" "
            f'w:xpath="{self.xpath(index)}" w:storeItemID="{self.store_item_id}"/>'
        )


class _Ids:
    """Unique ``w:id`` values for the controls of one document."""

    def __init__(self, start: int) -> None:
        self.next = start

    def take(self) -> int:
        self.next += 1
        return self.next


def _sdt_pr(f: Field, sdt_id: int, binding: str, kind_xml: str, placeholder: bool) -> str:
    return (
        "<w:sdtPr>"
        f'<w:alias w:val={attr(f.label)}/><w:tag w:val={attr(f.id)}/><w:id w:val="{sdt_id}"/>'
        # The control cannot be deleted (typing over a selected cell would remove it); its
        # content stays editable, and the document is not protected.
        '<w:lock w:val="sdtLocked"/>'
        + ("<w:showingPlcHdr/>" if placeholder else "")
        + binding
        + kind_xml
        + "</w:sdtPr>"
    )


def control(f: Field, sdt_id: int, binding: str) -> str:
    """One content control as a cell's block content (a paragraph, or a block-level sdt)."""
    if f.kind == "richtext":
        # Rich text: block level so the auditor can write several paragraphs; not bound
        # (Word does not bind rich text).
        pr = _sdt_pr(f, sdt_id, "", "", placeholder=True)
        content = f"<w:p>{run(f.placeholder, _PLACEHOLDER_RPR)}</w:p>"
        return f"<w:sdt>{pr}<w:sdtContent>{content}</w:sdtContent></w:sdt>"
    if f.kind == "checkbox":
        kind_xml = (
            '<w14:checkbox><w14:checked w14:val="0"/>'
            '<w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
            '<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox>'
        )
        pr = _sdt_pr(f, sdt_id, binding, kind_xml, placeholder=False)
        font = '<w:rFonts w:ascii="MS Gothic" w:eastAsia="MS Gothic" w:hAnsi="MS Gothic" w:hint="eastAsia"/>'
        content = f"<w:r><w:rPr>{font}</w:rPr><w:t>{UNCHECKED}</w:t></w:r>"
        sdt = f"<w:sdt>{pr}<w:sdtContent>{content}</w:sdtContent></w:sdt>"
        return f'<w:p><w:pPr><w:jc w:val="center"/></w:pPr>{sdt}</w:p>'
    if f.kind == "dropdown":
        items = "".join(
            f"<w:listItem w:displayText={attr(display)} w:value={attr(value)}/>" for value, display in f.choices
        )
        kind_xml = f"<w:dropDownList>{items}</w:dropDownList>"
    elif f.kind == "date":
        kind_xml = (
            '<w:date><w:dateFormat w:val="dd/MM/yyyy"/><w:lid w:val="en-GB"/>'
            '<w:storeMappedDataAs w:val="dateTime"/><w:calendar w:val="gregorian"/></w:date>'
        )
    elif f.kind == "text":
        kind_xml = '<w:text w:multiLine="1"/>'
    else:  # pragma: no cover - Field's Literal type forbids it
        raise ValueError(f.kind)
    pr = _sdt_pr(f, sdt_id, binding, kind_xml, placeholder=True)
    content = run(f.placeholder, _PLACEHOLDER_RPR)
    return f"<w:p><w:sdt>{pr}<w:sdtContent>{content}</w:sdtContent></w:sdt></w:p>"


def _cell(content: str, width: int, header: bool) -> str:
    shade = '<w:shd w:val="clear" w:color="auto" w:fill="D9E2F3"/>' if header else ""
    return f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shade}</w:tcPr>{content}</w:tc>'


def _table(table: Table, render_field) -> str:  # type: ignore[no-untyped-def]
    total = sum(table.widths)
    widths = [TABLE_WIDTH * w // total for w in table.widths]
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    rows = []
    for r, row in enumerate(table.rows):
        header = table.header and r == 0
        cells = []
        for cell, width in zip(row, widths, strict=True):
            if isinstance(cell, Field):
                content = render_field(cell)
            else:
                rpr = "<w:rPr><w:b/></w:rPr>" if header else ""
                content = f"<w:p>{run(cell, rpr) if cell else ''}</w:p>"
            cells.append(_cell(content, width, header))
        trpr = "<w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>" if header else "<w:trPr><w:cantSplit/></w:trPr>"
        rows.append(f"<w:tr>{trpr}{''.join(cells)}</w:tr>")
    tblpr = (
        f'<w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="{TABLE_WIDTH}" w:type="dxa"/>'
        '<w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" '
        'w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr>'
    )
    # An empty paragraph after each table keeps adjacent tables from merging in Word.
    return f"<w:tbl>{tblpr}<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl><w:p/>"


def _block(block: Block, render_field) -> str:  # type: ignore[no-untyped-def]
    if isinstance(block, Heading):
        return paragraph(block.text, f"Heading{block.level}")
    if isinstance(block, Paragraph):
        return paragraph(block.text, block.style)
    if isinstance(block, Key):
        rows: list[list[Cell]] = [[*row] for row in (block.header, *block.rows)]
        return _table(Table(rows, block.widths, header=True), render_field)
    return _table(block, render_field)


def render_body(layout: Layout, binding: Binding, first_id: int) -> tuple[str, int]:
    """The layout as body XML (prefixes w, w14 as declared on the template root).

    Returns the XML and the last ``w:id`` used.  Bound fields point at the n-th
    ``ad:v`` of the custom XML part, n being the field's position in the layout.
    """
    ids = _Ids(first_id)
    index = {f.id: n for n, f in enumerate(layout.fields, 1)}

    def render_field(f: Field) -> str:
        bind = binding.element(index[f.id]) if f.kind in _BOUND_KINDS else ""
        return control(f, ids.take(), bind)

    xml = "".join(_block(b, render_field) for b in layout.blocks)
    return xml, ids.next


def manifest_xml(layout: Layout) -> str:
    """The custom XML part: the form's own description of its fields (id, kind,
    placeholder, alias; in document order), so a returned form can be read without
    today's config, and one ``ad:v`` per field as the binding target (``false`` for a
    checkbox, as Word stores an unticked box; empty for the rest)."""
    return form_xml(layout.manifest(), ["false" if f.kind == "checkbox" else "" for f in layout.fields])
