"""Read content controls out of a WordprocessingML part, as plain records.

This is the only place that knows how Word and LibreOffice write a filled control:
text split into many runs, ``w:ins``/``w:del`` when tracking is on, comments and
bookmarks inside, checkboxes with ``w14:val`` 1/0/true/false or none at all, and
LibreOffice's extra wrapper around checkboxes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from auditdocs.errors import RejectedFile
from auditdocs.ooxml import namespaces as ns
from auditdocs.ooxml.package import Package

W, W14 = ns.W, ns.W14
_MC_FALLBACK = f"{{{ns.MC}}}Fallback"
# Content that is not current text: deletions, moved-away text, field codes, properties.
_SKIP = {
    f"{{{W}}}{t}"
    for t in (
        "del",
        "moveFrom",
        "delText",
        "instrText",
        "delInstrText",
        "rPr",
        "pPr",
        "sdtPr",
        "sectPr",
        "tblPr",
        "trPr",
        "tcPr",
        "tblGrid",
        "footnoteReference",
        "endnoteReference",
        "commentReference",
    )
} | {_MC_FALLBACK}
_TRACKED = {f"{{{W}}}{t}" for t in ("ins", "del", "moveFrom", "moveTo")}
_BINDING = re.compile(r"/ad:v\[(\d+)\]\s*$")
_ON = {"1", "true", "on"}
_OFF = {"0", "false", "off"}


@dataclass
class Control:
    """One ``w:sdt`` as found: its keys, its type and what it shows."""

    tag: str | None
    alias: str | None
    binding_index: int | None  # n of /ad:form[1]/ad:values[1]/ad:v[n]
    kind: str  # checkbox | dropdown | date | text | richtext | container
    showing_placeholder: bool
    text: str
    tracked_changes: bool
    checked: bool | None = None
    checked_note: str | None = None
    items: list[tuple[str, str]] = field(default_factory=list)  # (display, value)
    full_date: str | None = None
    # Paragraphs after the control in the same table cell (no control in them): where
    # LibreOffice puts a field's second and later paragraphs.
    after_in_cell: list[str] = field(default_factory=list)


def _val(el: etree._Element | None, attr: str = f"{{{W}}}val") -> str | None:
    return None if el is None else el.get(attr)


def content_text(content: etree._Element) -> tuple[str, bool]:
    """Current text of a control's content (paragraphs joined with \\n) and whether
    tracked changes were present.  Deleted text is left out, inserted text kept:
    the value reads as if every change were accepted."""
    paragraphs: list[list[str]] = [[]]
    seen_paragraph = False
    tracked = False

    def walk(el: etree._Element) -> None:
        nonlocal seen_paragraph, tracked
        tag = el.tag
        if not isinstance(tag, str):
            return  # comments, processing instructions
        if tag in _TRACKED or tag.endswith("Change"):
            tracked = True
        if tag in _SKIP:
            return
        if tag == f"{{{W}}}p":
            if seen_paragraph:
                paragraphs.append([])
            seen_paragraph = True
        elif tag == f"{{{W}}}t":
            paragraphs[-1].append(el.text or "")
        elif tag == f"{{{W}}}tab":
            paragraphs[-1].append("\t")
        elif tag in (f"{{{W}}}br", f"{{{W}}}cr"):
            paragraphs[-1].append("\n")
        elif tag == f"{{{W}}}noBreakHyphen":
            paragraphs[-1].append("-")
        for child in el:
            walk(child)

    walk(content)
    return "\n".join("".join(p) for p in paragraphs), tracked


def _checkbox(pr: etree._Element, text: str) -> tuple[bool | None, str | None]:
    box = pr.find(f"{{{W14}}}checkbox")
    if box is None:
        return None, None
    checked = box.find(f"{{{W14}}}checked")
    if checked is None:
        return False, None  # no w14:checked element: unchecked
    raw = checked.get(f"{{{W14}}}val")
    if raw is None:
        return True, None  # ST_OnOff: an attribute left out means "on"
    if raw.lower() in _ON:
        return True, None
    if raw.lower() in _OFF:
        return False, None
    return None, f"checkbox state {raw!r} is not on or off"


def _after_in_cell(sdt: etree._Element) -> list[str]:
    anchor = sdt
    parent = sdt.getparent()
    if parent is not None and parent.tag == f"{{{W}}}p":
        anchor = parent
    if anchor.getparent() is None or anchor.getparent().tag != f"{{{W}}}tc":
        return []
    out = []
    for sibling in anchor.itersiblings():
        if sibling.tag != f"{{{W}}}p" or sibling.find(f".//{{{W}}}sdt") is not None:
            break
        out.append(content_text(sibling)[0])
    while out and out[-1] == "":
        out.pop()
    return out


def read_control(sdt: etree._Element) -> Control:
    pr = sdt.find(f"{{{W}}}sdtPr")
    if pr is None:
        pr = etree.Element(f"{{{W}}}sdtPr")
    content = sdt.find(f"{{{W}}}sdtContent")
    text, tracked = content_text(content) if content is not None else ("", False)
    binding = pr.find(f"{{{W}}}dataBinding")
    match = _BINDING.search(binding.get(f"{{{W}}}xpath", "")) if binding is not None else None
    checked, note = _checkbox(pr, text)
    dropdown = pr.find(f"{{{W}}}dropDownList")
    if dropdown is None:
        dropdown = pr.find(f"{{{W}}}comboBox")
    date = pr.find(f"{{{W}}}date")
    nested = content is not None and content.find(f".//{{{W}}}sdt") is not None
    if pr.find(f"{{{W14}}}checkbox") is not None:
        kind = "checkbox"
    elif dropdown is not None:
        kind = "dropdown"
    elif date is not None:
        kind = "date"
    elif pr.find(f"{{{W}}}text") is not None:
        kind = "text"
    elif nested:
        kind = "container"
    else:
        kind = "richtext"
    items = []
    if dropdown is not None:
        for item in dropdown.iter(f"{{{W}}}listItem"):
            display = item.get(f"{{{W}}}displayText")
            value = item.get(f"{{{W}}}value")
            display = display if display is not None else value
            value = value if value is not None else display
            if display is not None and value is not None:
                items.append((display, value))
    return Control(
        tag=_val(pr.find(f"{{{W}}}tag")),
        alias=_val(pr.find(f"{{{W}}}alias")),
        binding_index=int(match.group(1)) if match else None,
        kind=kind,
        showing_placeholder=pr.find(f"{{{W}}}showingPlcHdr") is not None,
        text=text,
        tracked_changes=tracked,
        checked=checked,
        checked_note=note,
        items=items,
        full_date=_val(date, f"{{{W}}}fullDate") if date is not None else None,
        after_in_cell=_after_in_cell(sdt) if kind in ("text", "richtext") else [],
    )


def read_controls(root: etree._Element) -> list[Control]:
    """Every content control of a part, in document order."""
    return [read_control(sdt) for sdt in root.iter(f"{{{W}}}sdt")]


def custom_properties(pkg: Package) -> dict[str, str]:
    """Custom document properties (name → text value), found through the package rels."""
    names = [t for _i, rel_type, t in pkg.relationships("") if rel_type == ns.REL_CUSTOM_PROPS]
    if not names and pkg.has("docProps/custom.xml"):
        names = ["docProps/custom.xml"]
    props: dict[str, str] = {}
    for name in names[:1]:
        for prop in pkg.xml(name).iter(f"{{{ns.CUSTOM_PROPS}}}property"):
            value = "".join(prop.itertext())
            props.setdefault(prop.get("name") or "", value)
    return props


def form_manifest(pkg: Package, main: str) -> list[dict[str, str]] | None:
    """Our custom XML part's ``ad:f`` entries (id, k, p, a), or None if absent."""
    candidates = [t for _i, rel_type, t in pkg.relationships(main) if rel_type == ns.REL_CUSTOM_XML]
    candidates += sorted(n for n in pkg.infos if re.fullmatch(r"customxml/item\d+\.xml", n))
    for name in dict.fromkeys(candidates):
        if not pkg.has(name):
            continue
        try:
            root = pkg.xml(name)
        except RejectedFile:
            continue  # another program's custom XML part (LibreOffice may leave one empty)
        if root.tag == f"{{{ns.FORM_NS}}}form":
            manifest = root.find(f"{{{ns.FORM_NS}}}manifest")
            if manifest is None:
                return None
            return [dict(f.attrib) for f in manifest.iter(f"{{{ns.FORM_NS}}}f")]
    return None
