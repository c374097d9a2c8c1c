"""Prepare a Word template once per tool type; render one document per case cheaply.

Preparation (once): read the template package, insert the form body at the
``[[auditdocs:form]]`` paragraph, let docxtpl clean the ``{{ }}`` placeholders that
Word split across runs, compile the parts that hold placeholders with Jinja
(autoescape on) and deflate every static part.  Rendering (per case): fill the
placeholders, add the identity properties, join pre-deflated segments into a zip.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from docxtpl import DocxTemplate
from lxml import etree
from markupsafe import Markup, escape

from auditdocs.errors import AuditDocsError, InternalError, TemplateError
from auditdocs.ooxml import namespaces as ns
from auditdocs.ooxml.binding import data_store_parts
from auditdocs.ooxml.package import Package, macro_parts, parse_xml
from auditdocs.ooxml.properties import (
    CORE_PART,
    GENERATOR,
    CoreProperties,
    core_content_type,
    core_part_name,
    core_rels,
    settings_in_language,
    styles_in_language,
)
from auditdocs.ooxml.text import attr, runs_inner
from auditdocs.ooxml.zipout import Part, Segment, zip_bytes

FORM_MARKER = "[[auditdocs:form]]"
_PI = re.compile(r"<\?auditdocs-form\s*\?>")
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
_JINJA = re.compile(rb"\{\{|\{%")


def docx_value(value: Any) -> Markup:
    """Any context value as safe text for inside a ``<w:t>``: escaped, line breaks and
    tabs as Word elements.  Used as Jinja's ``finalize``, so autoescape cannot be
    bypassed by a value and every character of case data survives."""
    if isinstance(value, Markup):
        return value
    inner = runs_inner(str(value) if value is not None else "")
    # runs_inner yields <w:t>..</w:t><w:br/>..; we sit inside an open <w:t>: close it
    # first and reopen at the end.
    return Markup(f'</w:t>{inner}<w:t xml:space="preserve">')  # noqa: S704 - inner is escaped


def jinja_env() -> jinja2.Environment:
    return jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=docx_value,
        keep_trailing_newline=True,
    )


def patch_tags(template_path: Path, xml: str) -> str:
    """docxtpl's own clean-up of placeholders split across runs by Word, and of its
    ``{%p %}``, ``{%tr %}`` and ``{%tc %}`` tags into plain Jinja (it reads nothing but
    the path's name)."""
    return str(DocxTemplate(str(template_path)).patch_xml(xml))


def _ensure_w14(root: etree._Element) -> etree._Element:
    """Word reports a file as corrupt unless w14 is declared on the root and listed
    in mc:Ignorable.  Rebuild the root with the declaration when a template lacks it."""
    nsmap = dict(root.nsmap)
    if nsmap.get("w14") == ns.W14 and nsmap.get("mc") == ns.MC:
        new = root
    else:
        nsmap.update({"w14": ns.W14, "mc": ns.MC})
        new = etree.Element(root.tag, nsmap=nsmap, attrib=dict(root.attrib))
        new.extend(list(root))
    ignorable_key = f"{{{ns.MC}}}Ignorable"
    ignorable = new.get(ignorable_key, "").split()
    if "w14" not in ignorable:
        new.set(ignorable_key, " ".join([*ignorable, "w14"]))
    return new


def _paragraph_text(p: etree._Element) -> str:
    return "".join(t.text or "" for t in p.iter(ns.w("t")))


@dataclass(frozen=True)
class _Jinja:
    name: str
    template: jinja2.Template


class PreparedDocument:
    """A template with its form body inserted, ready to render many cases."""

    def __init__(self, template_path: Path, body: Callable[[int], str], custom_xml: str, store_item_id: str) -> None:
        self.path = template_path
        try:
            data = template_path.read_bytes()
        except OSError as exc:
            raise TemplateError(f"{template_path}: cannot read the template ({exc.strerror})") from None
        self.version = hashlib.sha256(data).hexdigest()[:12]
        try:
            pkg = Package(data)
            main = pkg.main_part()
            if macro_parts(pkg) or "macroenabled" in (pkg.content_type(main) or "").lower():
                # Every part is copied into every form: a template's macros would go to every auditor.
                raise TemplateError(
                    f"{template_path}: the template has macros; save it in Word as a Word Document (.docx)"
                )
            self._prepare(pkg, main, body, custom_xml, store_item_id)
        except TemplateError:
            raise
        except AuditDocsError as exc:
            raise TemplateError(f"{template_path}: not a usable Word template: {exc}") from None

    def _docxtpl_patch(self, xml: str) -> str:
        return patch_tags(self.path, xml)

    def _compile(self, name: str, xml: str) -> jinja2.Template:
        try:
            return self.env.from_string(xml)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"{self.path}: {name}: placeholder syntax error ({exc.message}); fix the {{{{ }}}} text in Word"
            ) from None

    def _prepare(
        self, pkg: Package, main: str, body: Callable[[int], str], custom_xml: str, store_item_id: str
    ) -> None:
        self.env = jinja_env()
        # Our custom XML part (binding target + field manifest) under a free name.
        n = 1
        while pkg.has(f"customXml/item{n}.xml"):
            n += 1
        extra_parts = {f"customXml/item{n}.xml": custom_xml.encode("utf-8"), **data_store_parts(n, store_item_id)}
        extra_rels = [(ns.REL_CUSTOM_XML, f"../customXml/item{n}.xml")]
        extra_types = {f"/customXml/itemProps{n}.xml": ns.CT_CUSTOM_XML_PROPS}
        root = _ensure_w14(pkg.xml(main))
        markers = [p for p in root.iter(ns.w("p")) if _paragraph_text(p).strip() == FORM_MARKER]
        if len(markers) != 1:
            raise TemplateError(
                f"{self.path}: needs exactly one paragraph reading {FORM_MARKER} where the form "
                f"goes (found {len(markers)})"
            )
        # Template controls get ids 1..n (a copied control in Word copies its id too);
        # the body's ids follow, so every id in the document is unique.
        sdt_ids = [e for e in root.iter(ns.w("id")) if e.getparent().tag == ns.w("sdtPr")]
        for n, el in enumerate(sdt_ids, 1):
            el.set(ns.w("val"), str(n))
        marker = markers[0]
        marker.addprevious(etree.ProcessingInstruction("auditdocs-form"))
        marker.getparent().remove(marker)
        xml = etree.tostring(root, encoding="unicode")
        xml = self._docxtpl_patch('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml)
        prefix, suffix = _PI.split(xml)
        self.main = main
        self.prefix = self._compile(main, prefix)
        self.suffix = self._compile(main, suffix)
        self.body = Segment.of(body(len(sdt_ids)).encode("utf-8"))

        self.parts: list[Part | _Jinja | str] = []  # str = the main part's or the core properties' slot
        self.user_props = b""
        self.template_core: Part | None = None  # the template's core properties, when no others are given
        rels_name = main.rsplit("/", 1)[0] + "/_rels/" + main.rsplit("/", 1)[-1] + ".rels"
        core = (core_part_name(pkg.read("_rels/.rels")) if pkg.has("_rels/.rels") else None) or CORE_PART
        self.core_name = core
        # Every document is in British English (styles' default language, theme fonts'
        # language), whatever language the template was saved in.
        language = {"word/styles.xml": styles_in_language, "word/settings.xml": settings_in_language}
        for info in pkg.zip.infolist():
            name = info.filename
            raw = pkg.read(name)
            if name in language and main == "word/document.xml":
                raw = language[name](raw)
            if name.lower() == main.lower():
                self.parts.append("main")
            elif name.lower() == core.lower():
                self.core_name = name
                self.template_core = Part.of(name, raw)
                self.parts.append("core")
            elif name == "[Content_Types].xml":
                raw = core_content_type(raw) if not pkg.has(core) else raw
                self.parts.append(Part.of(name, _content_types(raw, extra_types)))
            elif name == "_rels/.rels":
                self.parts.append(Part.of(name, _package_rels(core_rels(raw))))
            elif name.lower() == rels_name.lower():
                self.parts.append(Part.of(name, _add_rels(raw, extra_rels)))
            elif name == "docProps/custom.xml":
                self.user_props = _user_properties(raw)
            elif name.endswith(".xml") and _JINJA.search(raw):
                self.parts.append(_Jinja(name, self._compile(name, self._docxtpl_patch(raw.decode("utf-8")))))
            else:
                self.parts.append(Part.of(name, raw))
        if not any(isinstance(p, Part) and p.name == rels_name for p in self.parts):
            self.parts.append(Part.of(rels_name, _add_rels(_EMPTY_RELS, extra_rels)))
        if "core" not in self.parts:
            self.parts.append("core")
        self.parts += [Part.of(name, raw) for name, raw in extra_parts.items()]

    def check(self, context: Mapping[str, Any]) -> None:
        """Render once with sample data: unknown placeholders and broken XML show here,
        with the template's name, rather than halfway through a month's forms."""
        try:
            data = self.render(context, {"audit_id": "check"})
        except jinja2.UndefinedError as exc:
            raise TemplateError(
                f"{self.path}: unknown placeholder ({exc.message}); see the README for the names"
            ) from None
        pkg = Package(data)
        for name in pkg.infos:
            if name.endswith(".xml") or name.endswith(".rels"):
                try:
                    pkg.xml(name)
                except AuditDocsError as exc:
                    raise TemplateError(f"{self.path}: placeholders break the XML of {name}: {exc}") from None

    def render(
        self, context: Mapping[str, Any], properties: Mapping[str, str], core: CoreProperties | None = None
    ) -> bytes:
        """One document: ``context`` fills the placeholders, ``properties`` are the identity's
        custom properties, ``core`` its title, author and time (the template's without)."""
        parts: list[Part] = []
        for part in self.parts:
            if part == "core":
                if core is None and self.template_core is not None:
                    parts.append(self.template_core)
                else:
                    core = core or CoreProperties("", GENERATOR, datetime.now(UTC))
                    parts.append(Part.of(self.core_name, core.xml()))
            elif part == "main":
                parts.append(
                    Part.join(
                        self.main,
                        [self.prefix.render(context).encode(), self.body, self.suffix.render(context).encode()],
                    )
                )
            elif isinstance(part, _Jinja):
                parts.append(Part.of(part.name, part.template.render(context).encode()))
            elif isinstance(part, Part):
                parts.append(part)
            else:
                raise InternalError(f"{part!r}: not a part of a prepared document")
        parts.append(Part.of("docProps/custom.xml", custom_properties(properties, self.user_props)))
        return zip_bytes(parts)


_EMPTY_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'
)


def _add_rels(raw: bytes, rels: list[tuple[str, str]]) -> bytes:
    root = parse_xml(raw, "relationships")
    existing = {r.get("Id") for r in root}
    for n, (rel_type, target) in enumerate(rels, 1):
        rid = f"rIdAuditdocs{n}"
        if rid in existing:
            continue
        el = etree.SubElement(root, f"{{{ns.PKG_REL}}}Relationship")
        el.set("Id", rid)
        el.set("Type", rel_type)
        el.set("Target", target)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _package_rels(raw: bytes) -> bytes:
    root = parse_xml(raw, "_rels/.rels")
    if any(r.get("Type") == ns.REL_CUSTOM_PROPS for r in root):
        return raw
    return _add_rels(raw, [(ns.REL_CUSTOM_PROPS, "docProps/custom.xml")])


def _content_types(raw: bytes, extra: Mapping[str, str]) -> bytes:
    root = parse_xml(raw, "[Content_Types].xml")
    overrides = {o.get("PartName", "").lower() for o in root.iter(f"{{{ns.CT}}}Override")}
    wanted = {"/docProps/custom.xml": ns.CT_CUSTOM_PROPS, **extra}
    for part_name, content_type in wanted.items():
        if part_name.lower() not in overrides:
            el = etree.SubElement(root, f"{{{ns.CT}}}Override")
            el.set("PartName", part_name)
            el.set("ContentType", content_type)
    if not any(d.get("Extension", "").lower() == "xml" for d in root.iter(f"{{{ns.CT}}}Default")):
        el = etree.Element(f"{{{ns.CT}}}Default", Extension="xml", ContentType="application/xml")
        root.insert(0, el)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _user_properties(raw: bytes) -> bytes:
    """A template's own custom properties (not ours), kept in every document."""
    root = parse_xml(raw, "docProps/custom.xml")
    keep = [p for p in root if not (p.get("name") or "").startswith("auditdocs.")]
    return b"".join(etree.tostring(p) for p in keep)


def custom_properties(properties: Mapping[str, str], user_props: bytes = b"") -> bytes:
    """docProps/custom.xml: survives Word and LibreOffice unchanged; holds the identity."""
    # Our pids follow the template's own (pids must be unique, starting at 2).
    pid = max([1, *(int(p) for p in re.findall(rb'pid="(\d+)"', user_props))]) + 1
    items = [user_props.decode()]
    for name, value in properties.items():
        items.append(
            f'<property fmtid="{_FMTID}" pid="{pid}" name={attr("auditdocs." + name)}>'
            f"<vt:lpwstr>{escape(value)}</vt:lpwstr></property>"
        )
        pid += 1
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Properties xmlns="{ns.CUSTOM_PROPS}" xmlns:vt="{ns.VT}">{"".join(items)}</Properties>'
    )
    return xml.encode("utf-8")
