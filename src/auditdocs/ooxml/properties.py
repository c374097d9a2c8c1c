"""What every .docx we write says about itself: a title, its language, who made it and
when (``docProps/core.xml``), and the language Word spell-checks and a screen reader
reads it in (the styles' defaults and the theme fonts' language).

Word's accessibility check asks for a title; without a language a screen reader reads
British English with the rules of the reader's own default, and Word marks "organisation"
as a spelling mistake.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree
from markupsafe import escape

from auditdocs.ooxml import namespaces as ns
from auditdocs.ooxml.package import parse_xml

LANGUAGE = "en-GB"
GENERATOR = "auditdocs"
CORE_PART = "docProps/core.xml"
REL_CORE = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
CT_CORE = "application/vnd.openxmlformats-package.core-properties+xml"
_W = f"{{{ns.W}}}"


@dataclass(frozen=True)
class CoreProperties:
    """A document's title, author (``creator``), time made and language."""

    title: str
    creator: str
    created: datetime
    modified: datetime | None = None  # None: when it was created
    language: str = LANGUAGE

    def xml(self) -> bytes:
        def stamp(moment: datetime) -> str:
            utc = moment.astimezone(UTC) if moment.tzinfo else moment
            return utc.strftime("%Y-%m-%dT%H:%M:%SZ")

        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{escape(self.title)}</dc:title><dc:creator>{escape(self.creator)}</dc:creator>"
            f"<cp:lastModifiedBy>{GENERATOR}</cp:lastModifiedBy><dc:language>{escape(self.language)}</dc:language>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp(self.created)}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp(self.modified or self.created)}</dcterms:modified>'
            "</cp:coreProperties>"
        ).encode()


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def styles_in_language(raw: bytes, language: str = LANGUAGE) -> bytes:
    """``word/styles.xml`` with ``language`` as the default language of text (w:docDefaults)."""
    root = parse_xml(raw, "word/styles.xml")
    defaults = root.find(f"{_W}docDefaults")
    if defaults is None:
        defaults = etree.Element(f"{_W}docDefaults")
        root.insert(0, defaults)
    rpr_default = defaults.find(f"{_W}rPrDefault")
    if rpr_default is None:
        rpr_default = etree.Element(f"{_W}rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(f"{_W}rPr")
    if rpr is None:
        rpr = etree.SubElement(rpr_default, f"{_W}rPr")
    lang = rpr.find(f"{_W}lang")
    if lang is None:
        lang = etree.SubElement(rpr, f"{_W}lang")  # w:lang is the last but few of CT_RPr
        _order_rpr(rpr)
    lang.set(f"{_W}val", language)
    return _xml(root)


#: CT_RPr's children in schema order (ISO/IEC 29500-1 §17.3.2.28), for placing w:lang.
_RPR_ORDER = [
    "rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline", "shadow",
    "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing", "w", "kern",
    "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs",
    "em", "lang", "eastAsianLayout", "specVanish", "oMath",
]  # fmt: skip


def _order_rpr(rpr: etree._Element) -> None:
    def rank(el: etree._Element) -> int:
        name = etree.QName(el).localname if isinstance(el.tag, str) else ""
        return _RPR_ORDER.index(name) if name in _RPR_ORDER else len(_RPR_ORDER)

    children = sorted(rpr, key=rank)
    for child in children:
        rpr.append(child)


def settings_in_language(raw: bytes, language: str = LANGUAGE) -> bytes:
    """``word/settings.xml`` with ``language`` as the theme fonts' language (w:themeFontLang)."""
    root = parse_xml(raw, "word/settings.xml")
    found = root.find(f"{_W}themeFontLang")
    if found is None:
        return raw  # placing a new one needs the whole of CT_Settings' order: Word adds it on save
    found.set(f"{_W}val", language)
    return _xml(root)


def core_rels(raw: bytes) -> bytes:
    """``_rels/.rels`` with a relationship to :data:`CORE_PART` (when it has none)."""
    root = parse_xml(raw, "_rels/.rels")
    if any(r.get("Type") == REL_CORE for r in root):
        return raw
    etree.SubElement(root, f"{{{ns.PKG_REL}}}Relationship", Id="rIdAuditdocsCore", Type=REL_CORE, Target=CORE_PART)
    return _xml(root)


def core_content_type(raw: bytes) -> bytes:
    """``[Content_Types].xml`` with the core properties' content type (when it has none)."""
    root = parse_xml(raw, "[Content_Types].xml")
    if any(o.get("PartName", "").lower() == "/" + CORE_PART.lower() for o in root.iter(f"{{{ns.CT}}}Override")):
        return raw
    etree.SubElement(root, f"{{{ns.CT}}}Override", PartName="/" + CORE_PART, ContentType=CT_CORE)
    return _xml(root)


def core_part_name(rels: bytes) -> str | None:
    """Where a package's ``_rels/.rels`` puts its core properties."""
    for rel in parse_xml(rels, "_rels/.rels"):
        if rel.get("Type") == REL_CORE:
            return rel.get("Target", "").lstrip("/")
    return None


def with_core_properties(data: bytes, props: CoreProperties) -> bytes:
    """A copy of the package ``data`` whose core properties are ``props`` (added if it had none)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    lower = {n.lower(): n for n in names}
    rels_name = lower.get("_rels/.rels")
    target = core_part_name(src.read(rels_name)) if rels_name else None
    target = lower.get((target or CORE_PART).lower(), target or CORE_PART)
    changed = {target: props.xml()}
    if rels_name:
        changed[rels_name] = core_rels(src.read(rels_name))
    types = lower.get("[content_types].xml")
    if types and target == CORE_PART:
        changed[types] = core_content_type(src.read(types))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, changed.pop(info.filename) if info.filename in changed else src.read(info))
        for name, raw in changed.items():
            z.writestr(name, raw)
    return out.getvalue()
