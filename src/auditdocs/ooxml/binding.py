"""Keep each data-bound control's XML node equal to what the control shows.

Word shows a bound control's value from its node in the custom XML part, not from the
body (ISO/IEC 29500-1 §17.5.2.6): a document whose body says "Good" but whose node is
empty opens in Word showing "Choose a grade".  LibreOffice never writes a choice back to
the node, and may empty the part or leave it out; so every document we write (filled
plans, demo returns, feedback copies) goes through ``bind_shown_values`` last, which sets
each node as Word itself would for what the control shows:

- checkbox: ``true`` or ``false``;
- drop-down: the value of the list item shown (the shown text itself when it is none);
- date: the ISO date and time of the date shown (``storeMappedDataAs`` date or dateTime),
  or the text when it is not a date or the control stores text;
- a control showing its placeholder: an empty node.

Only our own bindings (``/ad:form[1]/ad:values[1]/ad:v[n]`` in ``FORM_NS``) are touched.
When the part they point at is missing or unreadable, it is rebuilt from the form's
field list, if the caller has one.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Mapping, Sequence

from lxml import etree

from auditdocs.dates import parse_uk_date
from auditdocs.errors import RejectedFile
from auditdocs.ooxml import namespaces as ns
from auditdocs.ooxml.package import Package, parse_xml, rels_name
from auditdocs.ooxml.reader import (
    CHECKED_GLYPHS,
    Control,
    chosen_item,
    form_manifest,
    picked_date,
    read_controls,
    shows_placeholder,
)
from auditdocs.ooxml.text import attr

W = ns.W
_XPATH = re.compile(r"^/ad:form\[1\]/ad:values\[1\]/ad:v\[([1-9]\d{0,4})\]$")
_FORM, _VALUES, _V = (f"{{{ns.FORM_NS}}}{t}" for t in ("form", "values", "v"))

#: A form's field list as stored in its custom XML part: dicts with id, k (kind), p
#: (placeholder) and a (alias), in document order.
Manifest = Sequence[Mapping[str, str]]


def form_xml(manifest: Manifest, values: Sequence[str] = ()) -> str:
    """Our custom XML part: the form's field list, then one ``ad:v`` per field (the
    binding targets; ``values`` fills the first of them).  The two are kept apart
    because LibreOffice rewrites a bound node, attributes and all."""
    items = "".join(
        "<ad:f " + " ".join(f"{name}={attr(value)}" for name, value in entry.items()) + "/>" for entry in manifest
    )
    filled = list(values) + [""] * (len(manifest) - len(values))
    nodes = "".join(f"<ad:v>{_escape(v)}</ad:v>" if v else "<ad:v/>" for v in filled)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<ad:form xmlns:ad="{ns.FORM_NS}"><ad:manifest>{items}</ad:manifest>'
        f"<ad:values>{nodes}</ad:values></ad:form>"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def stored_text(ctl: Control, placeholder: str) -> str:
    """What Word keeps in a bound control's node for what the control shows."""
    if ctl.kind == "checkbox":
        if ctl.checked is not None:
            return "true" if ctl.checked else "false"
        return "true" if ctl.text.strip() in CHECKED_GLYPHS else "false"
    if shows_placeholder(ctl.text, placeholder):
        return ""
    if ctl.kind == "dropdown":
        item = chosen_item(ctl)
        return item[0] if item is not None else ctl.text
    if ctl.kind == "date":
        day = parse_uk_date(ctl.text) or picked_date(ctl)
        if day is None or _date_storage(ctl.element) == "text":
            return ctl.text
        return day.isoformat() + "T00:00:00"
    return ctl.text


def _date_storage(sdt: etree._Element | None) -> str:
    found = sdt.find(f"{{{W}}}sdtPr/{{{W}}}date/{{{W}}}storeMappedDataAs") if sdt is not None else None
    return (found.get(f"{{{W}}}val") if found is not None else None) or "dateTime"


def _binding(ctl: Control) -> tuple[str, int] | None:
    """(store item id, n) of a control bound to our ``ad:v[n]``, else None."""
    el = ctl.element.find(f"{{{W}}}sdtPr/{{{W}}}dataBinding") if ctl.element is not None else None
    if el is None or f"xmlns:ad='{ns.FORM_NS}'" not in (el.get(f"{{{W}}}prefixMappings") or ""):
        return None
    match = _XPATH.match(el.get(f"{{{W}}}xpath") or "")
    store = el.get(f"{{{W}}}storeItemID")
    return (store.upper(), int(match.group(1))) if match and store else None


def expected_nodes(root: etree._Element, manifest: Manifest | None) -> dict[str, dict[int, str]]:
    """For each store item our controls are bound to: node n → the text it should hold."""
    placeholders = [e.get("p", "") for e in manifest] if manifest else []
    out: dict[str, dict[int, str]] = {}
    for ctl in read_controls(root):
        bound = _binding(ctl)
        if bound is None:
            continue
        store, n = bound
        placeholder = placeholders[n - 1] if n <= len(placeholders) else ""
        out.setdefault(store, {})[n] = stored_text(ctl, placeholder)
    return out


def _store_parts(pkg: Package, main: str) -> dict[str, str]:
    """Custom XML parts by the store item id their properties part gives them."""
    found: dict[str, str] = {}
    for _rid, rel_type, target in pkg.relationships(main):
        if rel_type != ns.REL_CUSTOM_XML or not pkg.has(target):
            continue
        for _r, props_type, props in pkg.relationships(target):
            if props_type == ns.REL_CUSTOM_XML_PROPS and pkg.has(props):
                try:
                    item_id = pkg.xml(props).get(f"{{{ns.DS}}}itemID")
                except RejectedFile:
                    continue
                if item_id:
                    found[item_id.upper()] = target
    return found


def _form_root(pkg: Package, name: str) -> etree._Element | None:
    try:
        root = pkg.xml(name)
    except RejectedFile:
        return None
    return root if root.tag == _FORM else None


def bind_shown_values(data: bytes, manifest: Manifest | None = None) -> bytes:
    """A copy of the package whose bound nodes hold what their controls show.  A bound
    part that is missing or not ours (emptied by LibreOffice) is rebuilt from
    ``manifest`` (default: the form's own field list); without one it is left as it is."""
    pkg = Package(data)
    main = pkg.main_part()
    return _rezip(data, pkg, bound_changes(pkg, main, pkg.xml(main), manifest))


def bound_changes(
    pkg: Package, main: str, root: etree._Element, manifest: Manifest | None = None
) -> dict[str, bytes]:
    """The parts to write so that the bound nodes of ``root`` (the main part, perhaps
    edited since ``pkg`` was read) hold what its controls show: the custom XML part, and
    when it had to be added, its properties, relationships and content types."""
    if manifest is None:
        manifest = form_manifest(pkg, main)
    parts = _store_parts(pkg, main)
    changed: dict[str, bytes] = {}
    for store, nodes in expected_nodes(root, manifest).items():
        name = parts.get(store)
        form = _form_root(pkg, name) if name else None
        if form is None:
            if not manifest:
                continue
            form = parse_xml(form_xml(manifest).encode(), "custom XML")
        if name is None:
            name = _add_store_part(pkg, main, store, changed)
        form = etree.fromstring(etree.tostring(form))  # a copy: the package caches its trees
        values = form.find(_VALUES)
        if values is None:
            values = etree.SubElement(form, _VALUES)
        slots = values.findall(_V)
        while len(slots) < max(nodes):
            slots.append(etree.SubElement(values, _V))
        for n, text in nodes.items():
            node = slots[n - 1]
            for child in list(node):
                node.remove(child)
            node.attrib.clear()
            node.text = text or None
        changed[name] = etree.tostring(form, xml_declaration=True, encoding="UTF-8", standalone=True)
    return changed


def data_store_parts(n: int, store_item_id: str) -> dict[str, bytes]:
    """The properties of custom XML part ``customXml/item{n}.xml`` (its store item id,
    which bound controls name) and the relationship from the part to them."""
    return {
        f"customXml/itemProps{n}.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            f'<ds:datastoreItem ds:itemID="{store_item_id}" xmlns:ds="{ns.DS}"><ds:schemaRefs>'
            f'<ds:schemaRef ds:uri="{ns.FORM_NS}"/></ds:schemaRefs></ds:datastoreItem>'
        ).encode(),
        f"customXml/_rels/item{n}.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{ns.PKG_REL}"><Relationship Id="rId1" Type="{ns.REL_CUSTOM_XML_PROPS}" '
            f'Target="itemProps{n}.xml"/></Relationships>'
        ).encode(),
    }


def _add_store_part(pkg: Package, main: str, store: str, changed: dict[str, bytes]) -> str:
    """A new custom XML part (and its properties) for ``store``, related from the main
    part and typed; returns its name."""
    n = 1
    while pkg.has(f"customXml/item{n}.xml") or f"customXml/item{n}.xml" in changed:
        n += 1
    name = f"customXml/item{n}.xml"
    changed.update(data_store_parts(n, store))
    main_rels = rels_name(main)
    rels = (
        etree.fromstring(etree.tostring(pkg.xml(main_rels)))
        if pkg.has(main_rels)
        else etree.Element(f"{{{ns.PKG_REL}}}Relationships", nsmap={None: ns.PKG_REL})
    )
    ids = {r.get("Id") for r in rels}
    rid = next(f"rIdAuditdocsData{k}" for k in range(1, len(ids) + 2) if f"rIdAuditdocsData{k}" not in ids)
    etree.SubElement(
        rels,
        f"{{{ns.PKG_REL}}}Relationship",
        Id=rid,
        Type=ns.REL_CUSTOM_XML,
        Target=posixpath.relpath(name, posixpath.dirname(main)),
    )
    changed[main_rels] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    types = etree.fromstring(etree.tostring(pkg.xml("[Content_Types].xml")))
    etree.SubElement(
        types, f"{{{ns.CT}}}Override", PartName=f"/customXml/itemProps{n}.xml", ContentType=ns.CT_CUSTOM_XML_PROPS
    )
    if not any(d.get("Extension", "").lower() == "xml" for d in types.iter(f"{{{ns.CT}}}Default")):
        types.insert(0, etree.Element(f"{{{ns.CT}}}Default", Extension="xml", ContentType="application/xml"))
    changed["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    return name


def _rezip(data: bytes, pkg: Package, changed: Mapping[str, bytes]) -> bytes:
    if not changed:
        return data
    by_lower = {name.lower(): name for name in changed}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for lower, info in pkg.infos.items():
            name = by_lower.pop(lower, None)
            z.writestr(info.filename, changed[name] if name else pkg.read(info.filename))
        for name in by_lower.values():
            z.writestr(name, changed[name])
    return out.getvalue()


def stale_nodes(data: bytes) -> list[str]:
    """Bound nodes that differ from what their controls show, as lines for a person
    (the check the tests run over every document we write).  Uses the form's own field
    list for the placeholders."""
    pkg = Package(data)
    main = pkg.main_part()
    manifest = form_manifest(pkg, main)
    parts = _store_parts(pkg, main)
    problems = []
    for store, nodes in expected_nodes(pkg.xml(main), manifest).items():
        name = parts.get(store)
        root = _form_root(pkg, name) if name else None
        if root is None:
            problems.append(f"store item {store}: bound controls but no form data part")
            continue
        values = root.find(_VALUES)
        slots = values.findall(_V) if values is not None else []
        for n, want in sorted(nodes.items()):
            have = (slots[n - 1].text or "") if n <= len(slots) else None
            if have != want:
                problems.append(f"ad:v[{n}] holds {have!r}, its control shows {want!r}")
    return problems
