"""Add Word comments to a document, anchored at given elements (controls or cells).

Used to send an auditor their own returned document back with a comment at each
field that needs amending.  Existing comments are kept; ours get new ids.  Macros
are never kept: the copy is a plain .docx whatever came in (.docm, .dotm, .dotx).
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Sequence

from lxml import etree

from auditdocs.dates import now
from auditdocs.ooxml import namespaces as ns
from auditdocs.ooxml.package import (
    MACRO_CONTENT_TYPES,
    MACRO_REL_TYPES,
    Package,
    macro_parts,
    rel_target,
    rels_folder,
    rels_name,
)

W = ns.W
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"
CT_DOCUMENT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def _paragraphs(element: etree._Element) -> list[etree._Element]:
    if element.tag == _w("p"):
        return [element]
    return list(element.iter(_w("p")))


def _anchor(element: etree._Element, cid: str) -> None:
    start = etree.Element(_w("commentRangeStart"), {_w("id"): cid})
    end = etree.Element(_w("commentRangeEnd"), {_w("id"): cid})
    ref = etree.Element(_w("r"))
    etree.SubElement(etree.SubElement(ref, _w("rPr")), _w("rStyle"), {_w("val"): "CommentReference"})
    etree.SubElement(ref, _w("commentReference"), {_w("id"): cid})
    parent = element.getparent()
    if element.tag == _w("sdt") and parent is not None and parent.tag == _w("p"):
        element.addprevious(start)
        element.addnext(end)
        end.addnext(ref)
        return
    if element.tag == _w("sdt") and parent is not None and parent.tag == _w("tc"):
        # A block-level control fills its cell: LibreOffice drops a comment anchored inside
        # it (measured, 7.4), so anchor on the label cell beside it when there is one.
        label = parent.getprevious()
        if label is not None and label.tag == _w("tc"):
            element = label
    paragraphs = _paragraphs(element)
    if not paragraphs:  # nothing to hang it on: put a paragraph in
        paragraphs = [etree.SubElement(element, _w("p"))]
    first, last = paragraphs[0], paragraphs[-1]
    ppr = first.find(_w("pPr"))
    first.insert(0 if ppr is None else 1, start)
    last.append(end)
    last.append(ref)


def add_comments(
    pkg: Package,
    main: str,
    root: etree._Element,
    comments: Sequence[tuple[etree._Element | None, str]],
    author: str = "Quality Assurance",
) -> bytes:
    """A copy of the package with one comment per (anchor, text); anchor None = the
    document's first paragraph.  ``root`` is the main part's tree (it is modified)."""
    folder = posixpath.dirname(main)
    rel_targets = {t: (i, typ) for i, typ, t in pkg.relationships(main)}
    comments_name = next((t for t, (_i, typ) in rel_targets.items() if typ == ns.REL_COMMENTS), None)
    if comments_name is not None and pkg.has(comments_name):
        part = etree.fromstring(etree.tostring(pkg.xml(comments_name)))
    else:
        comments_name = posixpath.join(folder, "comments.xml")
        part = etree.Element(_w("comments"), nsmap={"w": W})
    used = {int(c.get(_w("id"), "0")) for c in part if c.get(_w("id"), "0").lstrip("-").isdigit()}
    used |= {
        int(c.get(_w("id"), "0"))
        for c in root.iter(_w("commentRangeStart"))
        if c.get(_w("id"), "0").lstrip("-").isdigit()
    }
    next_id = max(used, default=-1) + 1
    body = root.find(_w("body"))
    first_paragraph = next(body.iter(_w("p")), None) if body is not None else None
    stamp = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    for anchor, text in comments:
        cid = str(next_id)
        next_id += 1
        target = anchor if anchor is not None else first_paragraph
        if target is None:
            continue
        _anchor(target, cid)
        comment = etree.SubElement(
            part, _w("comment"), {_w("id"): cid, _w("author"): author, _w("date"): stamp, _w("initials"): "QA"}
        )
        p = etree.SubElement(comment, _w("p"))
        t = etree.SubElement(etree.SubElement(p, _w("r")), _w("t"))
        t.text = text
    return _rewrite(pkg, main, root, comments_name, part, rel_targets)


def _remove(el: etree._Element) -> None:
    """Take an element out wherever it is (a damaged part can nest what should not be)."""
    parent = el.getparent()
    if parent is not None:
        parent.remove(el)


def _rewrite(
    pkg: Package,
    main: str,
    root: etree._Element,
    comments_name: str,
    part: etree._Element,
    rel_targets: dict[str, tuple[str, str]],
) -> bytes:
    """The package re-zipped with the commented main part, its comments part and their
    relationship and content type, and without macros: the VBA project, its data and
    everything that binds macros are left out, and the main part is a plain document
    (a .docm or .dotx sent back as .docx opens in Word as a document, and runs nothing)."""

    def xml(el: etree._Element) -> bytes:
        return etree.tostring(el, xml_declaration=True, encoding="UTF-8", standalone=True)

    def copy(name: str) -> etree._Element:
        return etree.fromstring(etree.tostring(pkg.xml(name)))

    dropped = macro_parts(pkg)
    changed = {main.lower(): xml(root), comments_name.lower(): xml(part)}
    names = {main.lower(): main, comments_name.lower(): comments_name}
    main_rels = rels_name(main)
    names[main_rels.lower()] = main_rels
    rels_parts = [n for n in pkg.infos if n.endswith(".rels") and n not in dropped]
    for name in dict.fromkeys([*rels_parts, main_rels.lower()]):
        if pkg.has(name):
            rels = copy(name)
        else:
            rels = etree.Element(f"{{{ns.PKG_REL}}}Relationships", nsmap={None: ns.PKG_REL})
        folder, edited = rels_folder(name), not pkg.has(name)
        for rel in list(rels.iter(f"{{{ns.PKG_REL}}}Relationship")):
            internal = rel.get("TargetMode") != "External"
            if rel.get("Type") in MACRO_REL_TYPES or (
                internal and rel_target(folder, rel.get("Target", "")).lower() in dropped
            ):
                _remove(rel)
                edited = True
        if name == main_rels.lower() and comments_name not in rel_targets:
            etree.SubElement(
                rels,
                f"{{{ns.PKG_REL}}}Relationship",
                Id="rIdAuditdocsComments",
                Type=ns.REL_COMMENTS,
                Target=posixpath.relpath(comments_name, posixpath.dirname(main)),
            )
            edited = True
        if edited:
            changed[name] = xml(rels)
    types = copy("[Content_Types].xml")
    for override in list(types.iter(f"{{{ns.CT}}}Override")):
        part_name = override.get("PartName", "").lstrip("/").lower()
        if part_name in dropped or part_name in (main.lower(), comments_name.lower()):
            _remove(override)
    for default in list(types.iter(f"{{{ns.CT}}}Default")):
        if default.get("ContentType", "").lower() in MACRO_CONTENT_TYPES:
            _remove(default)
    etree.SubElement(types, f"{{{ns.CT}}}Override", PartName="/" + main, ContentType=CT_DOCUMENT)
    etree.SubElement(types, f"{{{ns.CT}}}Override", PartName="/" + comments_name, ContentType=CT_COMMENTS)
    changed["[content_types].xml"] = xml(types)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for lower, info in pkg.infos.items():
            if lower in dropped:
                continue
            z.writestr(info.filename, changed.pop(lower) if lower in changed else pkg.read(info.filename))
        for lower, data in changed.items():
            z.writestr(names.get(lower, lower), data)
    return out.getvalue()
