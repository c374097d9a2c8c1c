"""Read content controls out of a WordprocessingML part, as plain records.

This is the only place that knows how Word and LibreOffice write a filled control:
text split into many runs, ``w:ins``/``w:del`` when tracking is on, comments and
bookmarks inside, checkboxes with ``w14:val`` 1/0/true/false or none at all, and
LibreOffice's extra wrapper around checkboxes.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from lxml import etree

from auditdocs.errors import RejectedFile
from auditdocs.ooxml import namespaces as ns
from auditdocs.ooxml.package import Package
from auditdocs.text import norm

W, W14 = ns.W, ns.W14


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


_P, _T, _TAB, _BR, _CR, _NBH, _SDT = (_w(t) for t in ("p", "t", "tab", "br", "cr", "noBreakHyphen", "sdt"))
# Subtrees whose text is not current text: deletions, moved-away text, the fallback
# copy of alternate content (the choice is read, so nothing counts twice).
_SKIP = {_w("del"), _w("moveFrom"), f"{{{ns.MC}}}Fallback"}
# Any of these means the author left tracked changes in the field.
_TRACKED = {
    _w(t)
    for t in (
        "ins",
        "del",
        "moveFrom",
        "moveTo",
        "rPrChange",
        "pPrChange",
        "tblPrChange",
        "trPrChange",
        "tcPrChange",
        "sectPrChange",
        "numberingChange",
    )
}
_PR, _CONTENT, _BINDING_EL, _DROPDOWN, _COMBO, _DATE, _TEXT, _TAG, _ALIAS, _PLACEHOLDER, _ITEM = (
    _w(t)
    for t in (
        "sdtPr",
        "sdtContent",
        "dataBinding",
        "dropDownList",
        "comboBox",
        "date",
        "text",
        "tag",
        "alias",
        "showingPlcHdr",
        "listItem",
    )
)
_VAL, _XPATH, _DISPLAY, _VALUE, _FULL_DATE = (_w(t) for t in ("val", "xpath", "displayText", "value", "fullDate"))
_CHECKBOX, _CHECKED, _CHECKED_VAL = (f"{{{W14}}}{t}" for t in ("checkbox", "checked", "val"))
# One C-level pass over the content visits only what matters, in document order.
_VISIT = (_P, _T, _TAB, _BR, _CR, _NBH, _SDT, *_SKIP, *_TRACKED)
# Content with none of these (most controls) has only paragraphs, text and controls to visit.
_PLAIN = (_P, _T, _SDT)
_NOT_PLAIN = tuple(tag for tag in _VISIT if tag not in _PLAIN)
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
    # A cell holding a legacy text form field (FORMTEXT): what a .doc saved by LibreOffice
    # makes of a form's text fields.
    form_text_field: bool = False
    # Text formatted as hidden (w:vanish, directly or by its style) in the control: Word
    # does not show it, so it is not what the person filling in the form saw.
    hidden: bool = False
    # Other controls inside this one (LibreOffice wraps a checkbox in a container; a field
    # pasted into another is a second field inside the first): their text is not this one's.
    holds_controls: bool = False
    # The w:sdt (or w:tc for a cell) itself, to anchor feedback comments on.
    element: etree._Element | None = field(default=None, repr=False, compare=False)
    # The control this one is inside, if any.
    enclosing: etree._Element | None = field(default=None, repr=False, compare=False)


def content_text(content: etree._Element) -> tuple[str, bool]:
    """Current text of a control's content (paragraphs joined with \\n) and whether
    tracked changes were present.  Deleted text is left out, inserted text kept:
    the value reads as if every change were accepted."""
    return _scan(content)[:2]


def _scan(content: etree._Element, visit: tuple[str, ...] = _VISIT, own: bool = False) -> tuple[str, bool, int]:
    """(text, tracked changes present, controls met inside).  ``visit`` can leave out tags
    known to be absent: lxml's cost of starting a walk grows with the tags asked for.
    ``own`` leaves out the text of the controls inside (only those directly inside are
    met): every element is then visited once however deep controls nest (scanning each
    control's whole subtree made 120 nested controls around long text take seconds)."""
    paragraphs: list[list[str]] = [[]]
    seen_paragraph = tracked = False
    inside = 0
    walk = etree.iterwalk(content, events=("start",), tag=visit)
    for _event, el in walk:
        tag = el.tag
        if tag in _TRACKED:
            tracked = True
        if tag in _SKIP:
            walk.skip_subtree()  # a deletion or a fallback: not current text
        elif tag == _T:
            text = el.text or ""
            if text and _after_text(el):
                # LibreOffice writes a line break typed in a field as a second w:t in the
                # same run (measured, 7.4 .docx); Word never puts two texts side by side.
                paragraphs[-1].append("\n")
            paragraphs[-1].append(text)
        elif tag == _P:
            if seen_paragraph:
                paragraphs.append([])
            seen_paragraph = True
        elif tag == _TAB:
            paragraphs[-1].append("\t")
        elif tag in (_BR, _CR):
            paragraphs[-1].append("\n")
        elif tag == _NBH:
            paragraphs[-1].append("-")
        elif tag == _SDT and el is not content:
            inside += 1
            if own:
                walk.skip_subtree()
    return "\n".join("".join(p) for p in paragraphs), tracked, inside


def _after_text(t: etree._Element) -> bool:
    """Whether a ``w:t`` follows a non-empty ``w:t`` directly in its run."""
    before = t.getprevious()
    return before is not None and before.tag == _T and bool(before.text)


_CHECKED_STATE, _UNCHECKED_STATE = (f"{{{W14}}}{t}" for t in ("checkedState", "uncheckedState"))


def shown_state(box: etree._Element, text: str) -> bool | None:
    """Whether a checkbox's symbol shows it ticked (True), unticked (False) or neither, by
    the control's own symbols (☒ and ☐ unless it names others)."""
    symbols = {True: "\u2612", False: "\u2610"}
    for tag, state in ((_CHECKED_STATE, True), (_UNCHECKED_STATE, False)):
        el = box.find(tag)
        code = el.get(f"{{{W14}}}val") if el is not None else None
        if code:
            with contextlib.suppress(ValueError, OverflowError):
                symbols[state] = chr(int(code, 16))
    shown = text.strip()
    return True if shown == symbols[True] else False if shown == symbols[False] else None


def _checkbox(box: etree._Element | None) -> tuple[bool | None, str | None]:
    if box is None:
        return None, None
    checked = next((child for child in box if child.tag == _CHECKED), None)
    if checked is None:
        return False, None  # no w14:checked element: unchecked
    raw = checked.get(_CHECKED_VAL)
    if raw is None:
        return True, None  # ST_OnOff: an attribute left out means "on"
    raw = raw.lower()
    if raw in _ON:
        return True, None
    if raw in _OFF:
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


@dataclass(frozen=True)
class _Context:
    """What read_controls works out for all of a part's controls in one pass each."""

    involved: set[etree._Element]  # controls whose content holds any of _NOT_PLAIN
    outer: set[etree._Element]  # controls with other controls inside
    hidden: set[etree._Element]  # controls with hidden text in them
    enclosing: dict[etree._Element, etree._Element]  # control → the control it is inside


def read_control(sdt: etree._Element, context: _Context | None = None) -> Control:
    """One control, read on its own or with what ``read_controls`` found for every control
    of the part (the same result, in time linear in the part)."""
    if context is None:
        context = _context(sdt)
    parts = {child.tag: child for child in sdt}
    pr = parts.get(_PR)
    props = {child.tag: child for child in pr} if pr is not None else {}
    content = parts.get(_CONTENT)
    nested = sdt in context.outer
    inside = 0
    if content is None:
        text, tracked = "", False
    else:
        visit = _VISIT if nested or sdt in context.involved else _PLAIN
        text, tracked, inside = _scan(content, visit, own=nested)
    binding = props.get(_BINDING_EL)
    match = _BINDING.search(binding.get(_XPATH, "")) if binding is not None else None
    dropdown = props.get(_DROPDOWN)
    if dropdown is None:
        dropdown = props.get(_COMBO)
    picker = props.get(_DATE)
    checkbox = props.get(_CHECKBOX)
    if checkbox is not None:
        kind = "checkbox"
    elif dropdown is not None:
        kind = "dropdown"
    elif picker is not None:
        kind = "date"
    elif _TEXT in props:
        kind = "text"
    elif nested and inside == 1 and not text.strip():
        kind = "container"  # LibreOffice's wrapper around a checkbox: nothing of its own
    else:
        kind = "richtext"
    checked, note = _checkbox(checkbox)
    if checkbox is not None and checked is not None and shown_state(checkbox, text) is (not checked):
        symbol = text.strip()
        note = f"the box shows {symbol} but is held as {'ticked' if checked else 'not ticked'}"
        checked = None
    items = []
    if dropdown is not None:
        for item in dropdown.iter(_ITEM):
            display, value = item.get(_DISPLAY), item.get(_VALUE)
            display = display if display is not None else value
            value = value if value is not None else display
            if display is not None and value is not None:
                items.append((display, value))
    tag, alias = props.get(_TAG), props.get(_ALIAS)
    return Control(
        tag=tag.get(_VAL) if tag is not None else None,
        alias=alias.get(_VAL) if alias is not None else None,
        binding_index=int(match.group(1)) if match else None,
        kind=kind,
        showing_placeholder=_PLACEHOLDER in props,
        text=text,
        tracked_changes=tracked,
        checked=checked,
        checked_note=note,
        items=items,
        full_date=picker.get(_FULL_DATE) if picker is not None else None,
        after_in_cell=_after_in_cell(sdt) if kind in ("text", "richtext") else [],
        hidden=sdt in context.hidden,
        holds_controls=nested,
        element=sdt,
        enclosing=context.enclosing.get(sdt),
    )


def shows_placeholder(text: str, placeholder: str) -> bool:
    """Whether a control shows nothing but its placeholder.  Decided by the text, not by
    ``w:showingPlcHdr``: LibreOffice drops the flag, and keeps it beside a date typed
    with the keyboard."""
    return text.strip() == "" or text.strip() == placeholder.strip()


#: Symbols that show a box ticked when no checkbox control is left to say so.
CHECKED_GLYPHS = ("\u2612", "\u2611", "\u2713", "\u2714", "X", "x")


def picked_date(ctl: Control) -> date | None:
    """The day a date picker holds (``w:fullDate``), if any and readable."""
    if not ctl.full_date:
        return None
    try:
        return datetime.fromisoformat(ctl.full_date.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def chosen_item(ctl: Control) -> tuple[str, bool] | None:
    """The drop-down item a control shows: (its value, whether the text matched exactly);
    None when the text is none of the items."""
    for display, value in ctl.items:
        if ctl.text == display:
            return value, True
    for display, value in ctl.items:
        if norm(ctl.text) in (norm(display), norm(value)):
            return value, False
    return None


def read_cell(tc: etree._Element) -> Control:
    """A table cell as an untyped control: its text, and the state of a checkbox in it."""
    text, tracked, _inside = _scan(tc)
    box = tc.find(f".//{_CHECKBOX}")
    checked, note = _checkbox(box)
    dropdown = tc.find(f".//{_DROPDOWN}")
    items = []
    if dropdown is not None:
        items = [(i.get(_DISPLAY) or "", i.get(_VALUE) or "") for i in dropdown.iter(_ITEM)]
    instructions = [t.text or "" for t in tc.iter(_w("instrText"))]
    instructions += [f.get(_w("instr")) or "" for f in tc.iter(_w("fldSimple"))]
    return Control(
        form_text_field=any("FORMTEXT" in i for i in instructions),
        tag=None,
        alias=None,
        binding_index=None,
        kind="cell",
        showing_placeholder=False,
        text=text,
        tracked_changes=tracked,
        checked=checked,
        checked_note=note,
        items=items,
        element=tc,
    )


def table_cells(root: etree._Element) -> list[list[list[etree._Element]]]:
    """The document's outermost tables, in order: their own rows of their own cells
    (``w:tc``), not those of tables nested in them; nothing is read yet (see read_cell)."""
    tbl, tr, tc = _w("tbl"), _w("tr"), _w("tc")
    out = []
    for table in root.iter(tbl):
        if next(table.iterancestors(tbl), None) is not None:
            continue
        rows = [row for row in table.iter(tr) if next(row.iterancestors(tbl), None) is table]
        out.append([[cell for cell in row.iter(tc) if next(cell.iterancestors(tr), None) is row] for row in rows])
    return out


def read_controls(root: etree._Element, hidden_styles: frozenset[str] = frozenset()) -> list[Control]:
    """Every content control of a part, in document order.  Most controls hold plain
    paragraphs of text; the few with anything else in them (found in one C-level pass over
    the part) are read element by element.  ``hidden_styles``: the ids of the styles that
    hide text (see ``hidden_style_ids``)."""
    context = _context(root, hidden_styles)
    return [read_control(sdt, context) for sdt in root.iter(_SDT)]


def _mark(el: etree._Element, marked: set[etree._Element], nearest_only: bool = False) -> None:
    """Add the controls around ``el`` to ``marked`` (stopping at one already there: so are
    the controls around it)."""
    for sdt in el.iterancestors(_SDT):
        if sdt in marked:
            break
        marked.add(sdt)
        if nearest_only:
            break


_VANISH, _RPR, _R, _RSTYLE, _PSTYLE = (_w(t) for t in ("vanish", "rPr", "r", "rStyle", "pStyle"))


def _context(root: etree._Element, hidden_styles: frozenset[str] = frozenset()) -> _Context:
    """Each a C-level pass over ``root`` (a part, or one control read on its own)."""
    involved: set[etree._Element] = set()
    for el in root.iter(*_NOT_PLAIN):
        _mark(el, involved)
    outer: set[etree._Element] = set()
    enclosing: dict[etree._Element, etree._Element] = {}
    for sdt in root.iter(_SDT):
        around = next(sdt.iterancestors(_SDT), None)
        if around is not None:
            enclosing[sdt] = around
            _mark(sdt, outer)
    hidden: set[etree._Element] = set()
    for el in root.iter(_VANISH):
        # A run's own formatting (w:r/w:rPr/w:vanish), or the control's (w:sdtPr/w:rPr),
        # hides text; the paragraph mark's (w:pPr/w:rPr) hides only the mark.
        holder = el.getparent()
        owner = holder.getparent() if holder is not None else None
        if holder is not None and holder.tag == _RPR and owner is not None and owner.tag in (_R, _PR) and _on(el):
            _mark(owner, hidden, nearest_only=True)
    if hidden_styles:
        for el in root.iter(_RSTYLE, _PSTYLE):
            if el.get(_VAL) not in hidden_styles:
                continue
            paragraph = el.getparent()
            if el.tag == _PSTYLE and paragraph is not None and paragraph.getparent() is not None:
                hidden.update(paragraph.getparent().iter(_SDT))  # every run of it, in controls too
            _mark(el, hidden, nearest_only=True)
    return _Context(involved, outer, hidden, enclosing)


def _on(el: etree._Element) -> bool:
    """An ST_OnOff property element: on unless its w:val says off."""
    return (el.get(_VAL) or "true").lower() not in _OFF


def document_hidden_styles(pkg: Package, main: str) -> frozenset[str]:
    """``hidden_style_ids`` of the main part's styles (none if it has no styles part)."""
    for _id, rel_type, target in pkg.relationships(main):
        if rel_type == ns.REL_STYLES and pkg.has(target):
            # Most documents hide nothing: the bytes say so without building the tree.
            return hidden_style_ids(pkg.xml(target)) if b"vanish" in pkg.read(target) else frozenset()
    return frozenset()


def hidden_style_ids(styles: etree._Element | None) -> frozenset[str]:
    """The ids of the styles (styles.xml) that hide text: w:vanish in their run properties,
    their own or inherited through w:basedOn, and not turned off again."""
    if styles is None:
        return frozenset()
    own: dict[str, bool | None] = {}
    based: dict[str, str] = {}
    for style in styles.iter(_w("style")):
        sid = style.get(_w("styleId"))
        if not sid:
            continue
        vanish = style.find(f"{_RPR}/{_VANISH}")
        own[sid] = _on(vanish) if vanish is not None else None
        parent = style.find(_w("basedOn"))
        if parent is not None and parent.get(_VAL):
            based[sid] = parent.get(_VAL, "")
    hidden = set()
    for sid in own:
        seen, at = set(), sid
        while at in own and own[at] is None and at in based and at not in seen:
            seen.add(at)
            at = based[at]
        if own.get(at):
            hidden.add(sid)
    return frozenset(hidden)


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


def is_word_main_part(content_type: str | None) -> bool:
    """Whether a main part of this content type is a WordprocessingML document (.docx,
    .docm, templates)."""
    return content_type in ns.CT_MAIN_DOCUMENT


def has_body(root: etree._Element) -> bool:
    return root.find(f"{{{ns.W}}}body") is not None
