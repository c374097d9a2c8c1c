"""A short section at the top of a returned document: a heading, a few lines and a
numbered list (the amendments a feedback copy asks for).  Comments alone are not
enough: a screen reader user meets them one by one, and a printed copy may not show
them.  The section sits between two halves of a bookmark, so the next copy of the
same document replaces it instead of adding a second one."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from auditdocs.ooxml import namespaces as ns

BOOKMARK = "auditdocs_amendments"
_W = f"{{{ns.W}}}"


def _paragraph(text: str, style: str | None = None, bold: bool = False) -> etree._Element:
    p = etree.Element(f"{_W}p")
    if style:
        etree.SubElement(etree.SubElement(p, f"{_W}pPr"), f"{_W}pStyle", {f"{_W}val": style})
    r = etree.SubElement(p, f"{_W}r")
    if bold:
        etree.SubElement(etree.SubElement(r, f"{_W}rPr"), f"{_W}b")
    t = etree.SubElement(r, f"{_W}t")
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return p


def _remove_previous(body: etree._Element) -> None:
    """Take out a section an earlier copy put at the top (between our bookmark's halves)."""
    start = next((b for b in body.iter(f"{_W}bookmarkStart") if b.get(f"{_W}name") == BOOKMARK), None)
    if start is None:
        return
    bid = start.get(f"{_W}id")
    end = next((b for b in body.iter(f"{_W}bookmarkEnd") if b.get(f"{_W}id") == bid), None)
    children = list(body)
    first = next((c for c in children if start in c.iter()), None)
    last = next((c for c in children if end is not None and end in c.iter()), None)
    if first is None or last is None or children.index(last) < children.index(first):
        start.getparent().remove(start)
        return
    for child in children[children.index(first) : children.index(last) + 1]:
        body.remove(child)


def prepend_section(
    root: etree._Element, heading: str, lines: Sequence[str], items: Sequence[str], heading_style: str = "Heading1"
) -> None:
    """Put ``heading``, ``lines`` and ``items`` (numbered 1., 2., ...) at the start of the
    body of the main part ``root`` (modified), replacing such a section put there before."""
    body = root.find(f"{_W}body")
    if body is None:
        return
    _remove_previous(body)
    paragraphs = [_paragraph(heading, heading_style)]
    paragraphs += [_paragraph(line) for line in lines]
    paragraphs += [_paragraph(f"{n}. {item}") for n, item in enumerate(items, 1)]
    paragraphs.append(etree.Element(f"{_W}p"))  # a space before the form starts
    used = [int(b.get(f"{_W}id", "0")) for b in root.iter(f"{_W}bookmarkStart") if b.get(f"{_W}id", "").isdigit()]
    bid = str(max(used, default=0) + 1)
    first, last = paragraphs[0], paragraphs[-1]
    ppr = first.find(f"{_W}pPr")
    first.insert(0 if ppr is None else 1, etree.Element(f"{_W}bookmarkStart", {f"{_W}id": bid, f"{_W}name": BOOKMARK}))
    last.append(etree.Element(f"{_W}bookmarkEnd", {f"{_W}id": bid}))
    for n, p in enumerate(paragraphs):
        body.insert(n, p)
