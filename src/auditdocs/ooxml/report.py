"""A report template (``templates/report.docx``) prepared once, rendered per report
without loading the template package again.

Preparation, once per template (cached by its bytes): the clean-up of the ``{{ }}`` and
``{%p/tr/tc %}`` tags Word split across runs (``template.patch_tags``), table properties put in schema order,
each table whose columns a ``{%tc for %}`` loop makes marked where its column grid goes,
every part that holds a tag compiled with Jinja (each value escaped by ``report_value``) and every other part
deflated.  Rendering: one Jinja render of the body, headers and footers; each table's
column grid shared by what its columns hold; the charts added as pictures with their
alternative text; the parts joined into a zip.  What used to be done after rendering
(re-reading the whole body to fix grids, picture ids and line breaks) is done on the
data instead, so a report of 10,000 audits is not parsed back.

Each report says what it is (its own title, its organisation as author, en-GB: the
core properties), every chart picture has its title and alternative text, and every
table's columns are wide enough for the widest word or date each holds in the font and
size the template gives the table (``ooxml.textwidth``), so none is broken over two
lines ("Mont h", "30/11/202 6"); a table too wide for that is shown in the template's
"wide_table" (smaller type, narrower cell margins) when it has one.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import zip_longest
from pathlib import Path
from typing import Any

import jinja2
from lxml import etree
from markupsafe import Markup, escape

from auditdocs.dates import now
from auditdocs.errors import AuditDocsError, TemplateError
from auditdocs.ooxml.finish import order_table_properties
from auditdocs.ooxml.namespaces import w
from auditdocs.ooxml.package import Package, parse_xml
from auditdocs.ooxml.properties import (
    CORE_PART,
    GENERATOR,
    CoreProperties,
    core_content_type,
    core_part_name,
    core_rels,
)
from auditdocs.ooxml.template import docx_value, patch_tags
from auditdocs.ooxml.textwidth import longest_word, text_width
from auditdocs.ooxml.zipout import Part, zip_bytes

_JINJA = re.compile(rb"\{\{|\{%")
_GRID = re.compile(r"<\?auditdocs-grid ([\d. ]+)\?>")
#: The block kind a template table belongs to (the ``{%p if b.kind == "..." %}`` before it).
_KIND = re.compile(r"""b\.kind\s*==\s*["'](\w+)["']""")
#: Text that cannot go into a ``<w:t>`` as it is: line breaks and tabs (Word elements)
#: and characters XML cannot hold.
_SPECIAL = re.compile("[\t\n\r\x0b]|[^\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
_REL_IMAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_EMU_PER_MM = 36_000
#: Pictures are numbered from here (as before), above any id the template has.
_FIRST_PICTURE_ID = 1000


def report_value(value: Any) -> str:
    """A value for inside a ``<w:t>``: escaped; line breaks, tabs and characters XML
    cannot hold handled as the forms do (``docx_value``).  Jinja's ``finalize``, so every
    value a template shows passes here (autoescape is off: this escapes, once)."""
    if isinstance(value, Markup):
        return value
    text = value if type(value) is str else "" if value is None else str(value)
    if _SPECIAL.search(text):
        return docx_value(text)
    # element text: quotes stay as they are, as Word writes them
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _env() -> jinja2.Environment:
    # Autoescape would escape each value again (a Markup made per cell, 0.1-0.2 s of a
    # 10,000-audit report's 60,000 cells); ``report_value`` escapes every value shown.
    return jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, finalize=report_value)  # noqa: S701


#: A table's header and rows, as shown.
TableData = tuple[Sequence[str], Sequence[Sequence[str]]]


@dataclass(frozen=True)
class Picture:
    """A PNG to show at ``width_mm``, with its alternative text (what it shows, in words)
    and its title."""

    png: bytes
    width_mm: float
    alt: str
    title: str = ""


@dataclass(frozen=True)
class TableMetrics:
    """What a template table's column widths depend on: its width, the size (points) and
    weight of its header and body text, its cell margins (left and right, twips)."""

    total: int
    header_size: float = 10.5
    body_size: float = 10.5
    header_bold: bool = True
    margins: int = 216

    def marker(self) -> str:
        bold = 1 if self.header_bold else 0
        return f"{self.total} {self.header_size:g} {self.body_size:g} {bold} {self.margins}"

    @classmethod
    def of_marker(cls, text: str) -> TableMetrics:
        total, header, body, bold, margins = text.split()
        return cls(int(total), float(header), float(body), bold == "1", int(margins))


@dataclass(frozen=True)
class _Jinja:
    name: str
    template: jinja2.Template


def _png_size(png: bytes) -> tuple[int, int]:
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise TemplateError("a report chart is not a PNG image")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


#: Room for what the text widths leave out: LibreOffice's and Word's rounding, borders.
_SLACK, _BORDERS = 1.02, 20
#: Past this width (twips, about 6 cm) a cell's text may wrap between its words.
_WRAP = 3400


@lru_cache(maxsize=1 << 16)
def _measure(text: str, size: float, bold: bool) -> tuple[float, float]:
    """(widest word, width on one line up to the wrap width) of a cell's text, in twips:
    measured once per distinct text (a report's cells repeat their grades, dates, teams)."""
    return longest_word(text, size, bold), min(text_width(text, size, bold), _WRAP)


def column_widths(metrics: TableMetrics, header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int] | None:
    """Each column's width (twips) summing to the table's: at least its widest word or
    date (header bold), more for columns whose text is longer, up to a few words a line;
    None when even the widest words do not fit side by side."""
    count = max([len(header), *(len(r) for r in rows)]) or 1
    least, wanted = [0.0] * count, [0.0] * count
    body = [set(column) for column in zip_longest(*rows, fillvalue="")]  # each distinct text once
    header_cells = [{text} for text in header]
    for cells, size, bold in (
        (header_cells, metrics.header_size, metrics.header_bold),
        (body, metrics.body_size, False),
    ):
        for n, texts in enumerate(cells):
            for text in texts:
                if text:
                    word, line = _measure(text, size, bold)
                    least[n] = max(least[n], word)
                    wanted[n] = max(wanted[n], line)
    pad = metrics.margins + _BORDERS
    least = [x * _SLACK + pad for x in least]
    wanted = [max(w * _SLACK + pad, x) for w, x in zip(wanted, least, strict=True)]
    total = metrics.total
    if sum(least) > total:
        return None
    if sum(wanted) <= total:  # room for every column's text on a line: the rest shared alike
        extra = (total - sum(wanted)) / count
        widths = [w + extra for w in wanted]
    else:  # each column its widest word, the rest shared by how much more its text wants
        spare, more = total - sum(least), sum(w - x for w, x in zip(wanted, least, strict=True))
        widths = [x + spare * (w - x) / more for w, x in zip(wanted, least, strict=True)]
    return [int(x) for x in widths]


def table_grid(metrics: TableMetrics, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table's ``w:tblGrid`` from what it shows (:func:`column_widths`); when its words
    cannot fit side by side, shared by the widest word of each column."""
    widths = column_widths(metrics, header, rows)
    if widths is None:
        cramped = TableMetrics(10**9, metrics.header_size, metrics.body_size, metrics.header_bold, metrics.margins)
        least = column_widths(cramped, header, rows) or [1]
        widths = [int(metrics.total * x / sum(least)) for x in least]
    return "<w:tblGrid>" + "".join(f'<w:gridCol w:w="{x}"/>' for x in widths) + "</w:tblGrid>"


class PreparedReport:
    """A report template ready to render many reports."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        try:
            pkg = Package(data)
            self._prepare(pkg, pkg.main_part())
        except AuditDocsError as exc:
            raise TemplateError(f"{path}: not a usable Word template: {exc}") from None

    def _patch(self, xml: str) -> str:
        patched = patch_tags(self.path, xml)
        # the escapes for literal braces in a template's text ({_{ for {{)
        for code, literal in (("{_{", "{{"), ("}_}", "}}"), ("{_%", "{%"), ("%_}", "%}")):
            patched = patched.replace(code, f"{{{{ '{literal}' }}}}")
        return patched

    def _compile(self, name: str, xml: str) -> jinja2.Template:
        try:
            return self.env.from_string(self._patch(xml))
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"{self.path}: {name}: template tag syntax error ({exc.message}); keep its {{%p ...%}}, "
                "{%tr ...%} and {%tc ...%} tags as shipped"
            ) from None

    def _prepare(self, pkg: Package, main: str) -> None:
        self.env = _env()
        self.main = main
        root = pkg.xml(main)
        order_table_properties(root)
        for t in root.iter(w("t")):  # a value may start or end with a space
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        self.tables: dict[str, TableMetrics] = {}  # the block kind → its table's metrics
        size = _default_size(pkg)
        for table in root.iter(w("tbl")):
            grid = table.find(w("tblGrid"))
            text = "".join(t.text or "" for t in table.iter(w("t")))
            if grid is None or "{%tc" not in text.replace(" ", "").replace("{%-", "{%"):
                continue
            total = sum(int(float(c.get(w("w")) or 0)) for c in grid.findall(w("gridCol")))
            if total:
                metrics = _metrics(pkg, table, total, size)
                self.tables.setdefault(_kind(table), metrics)
                grid.addprevious(etree.ProcessingInstruction("auditdocs-grid", metrics.marker()))
                table.remove(grid)
        ids = [int(i) for i in root.xpath("//wp:docPr/@id", namespaces={"wp": _WP}) if str(i).isdigit()]
        self.first_id = max([_FIRST_PICTURE_ID, *ids]) + 1
        xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + etree.tostring(root, encoding="unicode")
        self.body = self._compile(main, xml)
        rels = main.rsplit("/", 1)[0] + "/_rels/" + main.rsplit("/", 1)[-1] + ".rels"
        self.rels_name = rels
        self.rels = pkg.read(rels) if pkg.has(rels) else _EMPTY_RELS
        self.media = main.rsplit("/", 1)[0] + "/media/"
        # each report's own core properties (its title...), where the package keeps them
        self.core = (core_part_name(pkg.read("_rels/.rels")) if pkg.has("_rels/.rels") else None) or CORE_PART
        self.core_part: Part | None = None
        self.parts: list[Part | _Jinja | str] = []  # str: a part made per report
        for info in pkg.zip.infolist():
            name = info.filename
            raw = pkg.read(name)
            if name.lower() == main.lower():
                self.parts.append("main")
            elif name.lower() == rels.lower():
                self.parts.append("rels")
            elif name.lower() == self.core.lower():
                self.core, self.core_part = name, Part.of(name, raw)
                self.parts.append("core")
            elif name == "[Content_Types].xml":
                self.parts.append(Part.of(name, core_content_type(_content_types(raw))))
            elif name == "_rels/.rels":
                self.parts.append(Part.of(name, core_rels(raw)))
            elif name.endswith(".xml") and _JINJA.search(raw):
                self.parts.append(_Jinja(name, self._compile(name, raw.decode("utf-8"))))
            else:
                self.parts.append(Part.of(name, raw))
        if "rels" not in self.parts:
            self.parts.append("rels")
        if "core" not in self.parts:
            self.parts.append("core")

    def table_kind(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
        """The block kind to show a table as: "table", or "wide_table" (smaller type) when
        its words do not fit side by side in the template's table and they do in its wide
        table (a template without one: "table")."""
        normal, wide = self.tables.get("table"), self.tables.get("wide_table")
        if normal is None or wide is None or column_widths(normal, header, rows) is not None:
            return "table"
        return "wide_table"

    def picture(self, n: int, picture: Picture) -> Markup:
        """The drawing of the ``n``-th picture (from 0) of a report, for inside a ``<w:t>``."""
        width_px, height_px = _png_size(picture.png)
        cx = int(picture.width_mm * _EMU_PER_MM)
        cy = int(cx * height_px / width_px)
        pid = self.first_id + n
        drawing = (
            '<w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0" '
            'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
            'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">'
            f'<wp:extent cx="{cx}" cy="{cy}"/>'
            f'<wp:docPr id="{pid}" name="Picture {n + 1}" descr="{escape(picture.alt)}" '
            f'title="{escape(picture.title)}"/>'
            '<wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/></wp:cNvGraphicFramePr>'
            '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
            f'<pic:pic><pic:nvPicPr><pic:cNvPr id="{pid}" name="chart{n + 1}.png"/><pic:cNvPicPr/></pic:nvPicPr>'
            f'<pic:blipFill><a:blip r:embed="rIdReportPicture{n + 1}"/><a:stretch><a:fillRect/></a:stretch>'
            f'</pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
            '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
            "</wp:inline></w:drawing>"
        )
        # we sit inside an open <w:t> of a run: close it and the run, reopen both after
        return Markup(f'</w:t></w:r><w:r>{drawing}</w:r><w:r><w:t xml:space="preserve">')  # noqa: S704 - escaped

    def render(
        self, context: Mapping[str, Any], pictures: Sequence[Picture], tables: Sequence[TableData],
        properties: CoreProperties | None = None,
    ) -> bytes:  # fmt: skip
        """The report: ``context`` for the template, the ``pictures`` its blocks show (in
        the order of :meth:`picture`'s numbers), the ``tables`` it shows, in order (each
        one's column grid is worked out from them), and its core ``properties`` (the
        template's if None)."""
        parts: list[Part] = []
        for part in self.parts:
            if part == "core":
                if properties is None and self.core_part is not None:
                    parts.append(self.core_part)
                else:
                    parts.append(Part.of(self.core, (properties or CoreProperties("", GENERATOR, now())).xml()))
            elif part == "main":
                parts.append(Part.of(self.main, _with_grids(self.body.render(context), tables).encode("utf-8")))
            elif part == "rels":
                parts.append(Part.of(self.rels_name, _with_pictures(self.rels, len(pictures))))
            elif isinstance(part, _Jinja):
                parts.append(Part.of(part.name, part.template.render(context).encode("utf-8")))
            elif isinstance(part, Part):
                parts.append(part)
        for n, picture in enumerate(pictures, 1):
            parts.append(Part.of(f"{self.media}chart{n}.png", picture.png))
        return zip_bytes(parts)


def _with_grids(xml: str, tables: Sequence[TableData]) -> str:
    """Each marked table's grid, from its data (the tables come in the body's order)."""
    found = iter(tables)

    def grid(m: re.Match[str]) -> str:
        header, rows = next(found, ([], []))
        return table_grid(TableMetrics.of_marker(m.group(1)), header, rows) if header else "<w:tblGrid/>"

    return _GRID.sub(grid, xml)


def _half_points(rpr: etree._Element | None) -> float | None:
    size = rpr.find(w("sz")) if rpr is not None else None
    value = size.get(w("val")) if size is not None else None
    return int(value) / 2 if value and value.isdigit() else None


def _default_size(pkg: Package) -> float:
    """The size of text in the Normal style (or the document defaults), in points."""
    if pkg.has("word/styles.xml"):
        styles = pkg.xml("word/styles.xml")
        for style in styles.iter(w("style")):
            if style.get(w("type")) == "paragraph" and style.get(w("default")) in ("1", "true", "on"):
                found = _half_points(style.find(w("rPr")))
                if found:
                    return found
        found = _half_points(styles.find(f"{w('docDefaults')}/{w('rPrDefault')}/{w('rPr')}"))
        if found:
            return found
    return 10.0  # Word's own default


def _table_margins(pkg: Package, table: etree._Element) -> int:
    """A table's left and right cell margins together (twips): its own, else its style's,
    else Word's default (108 each side)."""
    sides = {"left": 108, "right": 108}
    holders = []
    style = table.find(f"{w('tblPr')}/{w('tblStyle')}")
    if style is not None and pkg.has("word/styles.xml"):
        for found in pkg.xml("word/styles.xml").iter(w("style")):
            if found.get(w("styleId")) == style.get(w("val")):
                holders.append(found.find(f"{w('tblPr')}/{w('tblCellMar')}"))
    holders.append(table.find(f"{w('tblPr')}/{w('tblCellMar')}"))
    for margins in holders:
        for side in margins if margins is not None else []:
            name = etree.QName(side).localname
            name = {"start": "left", "end": "right"}.get(name, name)
            value = side.get(w("w")) or ""
            if name in sides and value.isdigit() and side.get(w("type"), "dxa") == "dxa":
                sides[name] = int(value)
    return sides["left"] + sides["right"]


def _metrics(pkg: Package, table: etree._Element, total: int, default: float) -> TableMetrics:
    """A template table's metrics: the size and weight of the runs holding its header's
    and cells' values (``{{ h }}``, ``{{ c }}``), its cell margins."""
    header_size = body_size = default
    bold = False
    for run in table.iter(w("r")):
        text = "".join(t.text or "" for t in run.iter(w("t"))).replace(" ", "")
        rpr = run.find(w("rPr"))
        if text == "{{h}}":
            header_size = _half_points(rpr) or default
            b = rpr.find(w("b")) if rpr is not None else None
            bold = b is not None and b.get(w("val"), "1") not in ("0", "false", "off")
        elif text == "{{c}}":
            body_size = _half_points(rpr) or default
    return TableMetrics(total, header_size, body_size, bold, _table_margins(pkg, table))


def _kind(table: etree._Element) -> str:
    """The block kind whose branch of the template holds ``table`` ("table" if none says)."""
    for before in table.itersiblings(preceding=True):
        found = _KIND.search("".join(t.text or "" for t in before.iter(w("t"))))
        if found:
            return found.group(1)
    return "table"


_EMPTY_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'
)


def _with_pictures(raw: bytes, count: int) -> bytes:
    root = parse_xml(raw, "relationships")
    for n in range(1, count + 1):
        rel = etree.SubElement(root, f"{{{_PKG_REL}}}Relationship", Id=f"rIdReportPicture{n}", Type=_REL_IMAGE)
        rel.set("Target", f"media/chart{n}.png")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _content_types(raw: bytes) -> bytes:
    root = parse_xml(raw, "[Content_Types].xml")
    if not any(d.get("Extension", "").lower() == "png" for d in root.iter(f"{{{_CT}}}Default")):
        root.insert(0, etree.Element(f"{{{_CT}}}Default", Extension="png", ContentType="image/png"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


_PREPARED: dict[str, PreparedReport] = {}


def prepared_report(path: Path) -> PreparedReport:
    """The template at ``path``, prepared (once per process for the same bytes)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read the report template ({exc.strerror})") from None
    key = hashlib.sha256(data).hexdigest()
    found = _PREPARED.get(key)
    if found is None:
        if len(_PREPARED) >= 8:
            _PREPARED.clear()
        found = _PREPARED[key] = PreparedReport(path, data)
    return found
