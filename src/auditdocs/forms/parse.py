"""Parse returned forms into plain data, following the contract in DESIGN.md.

A form is read through its own field manifest (stored inside it when issued), so
today's config is not needed to read last month's forms.  Each field is found by
its tag; when LibreOffice has dropped the tags, by its data binding, its alias or
its position between found fields, and a warning says which fallback was used.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lxml import etree

from auditdocs.dates import parse_uk_date
from auditdocs.errors import RejectedFile
from auditdocs.forms.identity import Identity, manifest_hash
from auditdocs.forms.layout import Field, Layout, Table, choices_text, layout_source, read_choices
from auditdocs.ooxml.convert import TIMEOUT as CONVERT_TIMEOUT
from auditdocs.ooxml.convert import Converter, legacy_kind, to_docx
from auditdocs.ooxml.package import (
    DEFAULT_LIMITS,
    Limits,
    Package,
    is_odf,
    odf_encrypted,
    ole_kind,
    sniff,
    too_big,
)
from auditdocs.ooxml.reader import (
    CHECKED_GLYPHS,
    Control,
    chosen_item,
    custom_properties,
    document_hidden_styles,
    form_manifest,
    has_body,
    is_word_main_part,
    picked_date,
    read_cell,
    read_controls,
    shows_placeholder,
    table_cells,
)
from auditdocs.workspace import Workspace

log = logging.getLogger(__name__)

Value = str | bool | None
_PREFIX = "auditdocs."

_TOO_BIG = "not an audit form, or one with very large pictures pasted in"


@dataclass
class Issue:
    field: str | None
    severity: str  # "error" | "warning"
    message: str
    # A warning about how a value was read (a fallback, a guess between two readings):
    # ingest stores it with the return and asks the auditor to confirm the value.
    affects_value: bool = False


@dataclass
class ParsedForm:
    file: str
    status: str = "ok"  # ok | invalid | rejected
    audit_id: str | None = None
    identity: Identity | None = None
    fields: dict[str, Value] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    # Not part of the JSON: the package read, and where each field is in its main part
    # (for feedback comments anchored at the field).
    package: Package | None = field(default=None, repr=False)
    main_part: str | None = field(default=None, repr=False)
    manifest: list[dict[str, str]] | None = field(default=None, repr=False)
    converted_from: str | None = None  # "doc" | "odt": read after LibreOffice converted it
    locations: dict[str, Any] = field(default_factory=dict, repr=False)

    def error(self, field_id: str | None, message: str) -> None:
        self.issues.append(Issue(field_id, "error", message))

    def warn(self, field_id: str | None, message: str, affects_value: bool = False) -> None:
        self.issues.append(Issue(field_id, "warning", message, affects_value))

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "audit_id": self.audit_id,
            "fields": self.fields,
            "issues": [{"field": i.field, "severity": i.severity, "message": i.message} for i in self.issues],
        }


# --- values -------------------------------------------------------------------------


def read_value(entry: dict[str, str], ctl: Control, out: ParsedForm) -> Value:
    fid, kind, placeholder = entry["id"], entry["k"], entry.get("p", "")
    if ctl.tracked_changes:
        out.warn(fid, "unaccepted tracked changes: read as if every change were accepted", affects_value=True)
    if kind == "checkbox":
        if ctl.checked_note:
            out.error(fid, f"{ctl.checked_note}; tick or untick the box again")
            return None
        if ctl.checked is not None:
            return ctl.checked
        glyph = ctl.text.strip()
        if glyph in (*CHECKED_GLYPHS, "\u2610", ""):
            # In a file converted from .doc/.odt every box is read so (the return says it was
            # converted); elsewhere a control lost its state: ask the auditor to confirm.
            out.warn(
                fid,
                "checkbox state read from the symbol shown (no checkbox control left)",
                affects_value=ctl.kind != "cell",
            )
            return glyph not in ("\u2610", "")
        out.error(fid, f"checkbox shows {glyph!r}; tick or untick the box again")
        return None
    if kind in ("text", "richtext"):
        return _text_value(fid, placeholder, ctl, out)
    if kind == "dropdown":
        return _dropdown_value(entry, ctl, out)
    if shows_placeholder(ctl.text, placeholder):
        return None
    if kind == "date":
        shown = parse_uk_date(ctl.text)
        picked = picked_date(ctl)
        if shown is not None:
            if picked is not None and picked != shown:
                out.warn(
                    fid,
                    f"shows {ctl.text!r} but the date picker holds {picked.isoformat()}; used the date shown",
                    affects_value=True,
                )
            return shown.isoformat()
        if picked is not None:
            out.warn(
                fid, f"{ctl.text!r} is not a date; used the date picker's {picked.isoformat()}", affects_value=True
            )
            return picked.isoformat()
        out.error(fid, f"{ctl.text!r} is not a date; write it as dd/mm/yyyy or use the date picker")
        return None
    return ctl.text


def _dropdown_value(entry: dict[str, str], ctl: Control, out: ParsedForm) -> str | None:
    """The choice a drop-down shows, as the value the signed field list gives that choice:
    never the value the form's own list gives it (any Word user can edit a list's items,
    and make it show Inadequate and store Good)."""
    fid = entry["id"]
    issued = read_choices(entry["c"]) if "c" in entry else None
    if issued is None:
        # A form issued before choices were signed, read without today's config (changed
        # since): its own list is all there is.
        out.warn(fid, "the list's choices could not be checked against the config", affects_value=True)
    else:
        listed = [(display, value) for value, display in issued]
        # A cell read from a converted file keeps no list of its own (or a legacy one).
        if ctl.kind != "cell" and ctl.items != listed:
            out.error(fid, "the list of choices in this field was edited; choose again on a fresh copy of the form")
            return None
        ctl = replace(ctl, items=listed)
    if shows_placeholder(ctl.text, entry.get("p", "")):
        return None
    item = chosen_item(ctl)
    if item is not None:
        if not item[1]:
            meant = next(display for display, value in ctl.items if value == item[0])
            out.warn(fid, f"shows {ctl.text!r}, read as the choice {meant!r}", affects_value=True)
        return item[0]
    out.error(fid, f"shows {ctl.text!r}, which is not one of the choices; choose from the list")
    return None


def _text_value(fid: str, placeholder: str, ctl: Control, out: ParsedForm) -> str | None:
    text: str | None = None if shows_placeholder(ctl.text, placeholder) else ctl.text
    if text is not None and placeholder and text.startswith(placeholder):
        # LibreOffice keeps a deleted placeholder as text when changes were tracked.
        text = text[len(placeholder) :]
        out.warn(
            fid, "the field's placeholder text was left in front of the answer; it was removed", affects_value=True
        )
    if ctl.after_in_cell:
        out.warn(
            fid,
            "text after the field in the same box was included "
            "(LibreOffice moves a field's later paragraphs out of it)",
            affects_value=True,
        )
        text = "\n".join([*([text] if text is not None else []), *ctl.after_in_cell])
    if text and ctl.form_text_field:
        out.warn(
            fid,
            "saved as .doc by LibreOffice, which drops line breaks typed in a field: "
            "check that no lines were run together",
            affects_value=True,
        )
    return text or None


# --- matching controls to fields ----------------------------------------------------


def match_controls(manifest: list[dict[str, str]], controls: list[Control], out: ParsedForm) -> dict[int, Control]:
    """Map manifest positions to controls: by tag, then binding, alias, position."""
    by_tag = {e["id"]: i for i, e in enumerate(manifest)}
    aliases: dict[str, list[int]] = {}
    for i, e in enumerate(manifest):
        aliases.setdefault(e.get("a", ""), []).append(i)
    found: dict[int, Control] = {}
    how: dict[int, str] = {}
    keyed: list[int | None] = []
    claims: dict[int, list[tuple[int, str]]] = {}  # field → (position, how) of each control claiming it
    for pos, ctl in enumerate(controls):
        index: int | None = None
        if ctl.kind == "container":
            pass  # LibreOffice's wrapper around a checkbox: the inner one counts
        elif ctl.tag is not None and ctl.tag in by_tag:
            index, method = by_tag[ctl.tag], "tag"
        elif ctl.binding_index is not None and 1 <= ctl.binding_index <= len(manifest):
            index, method = ctl.binding_index - 1, "data binding"
        elif ctl.alias and len(aliases.get(ctl.alias, [])) == 1:
            index, method = aliases[ctl.alias][0], "alias"
        if index is not None:
            claims.setdefault(index, []).append((pos, method))
        keyed.append(index)
    copies: set[int] = set()
    for index, claimed in claims.items():
        # The control a person sees, found by its tag, first in the document; never silently.
        pos, method = min(claimed, key=lambda c: (controls[c[0]].hidden, c[1] != "tag", c[0]))
        found[index], how[index] = controls[pos], method
        others = [controls[p] for p, _m in claimed if p != pos]
        copies.update(p for p, _m in claimed if p != pos)
        _check_copies(manifest[index]["id"], found[index], others, out)
    for pos in copies:
        keyed[pos] = None
    # Position: a run of unkeyed controls between two found fields is matched, in order,
    # to the fields missing between them when the counts and the kinds agree.
    groups: list[list[int]] = []
    for pos, ctl in enumerate(controls):
        if keyed[pos] is None and ctl.kind != "container" and pos not in copies:
            if groups and groups[-1][-1] == pos - 1:
                groups[-1].append(pos)
            else:
                groups.append([pos])
        elif ctl.kind == "container" and groups and groups[-1][-1] == pos - 1:
            groups[-1].append(pos)  # a wrapper does not break a run; it is skipped below
    for group in groups:
        members = [p for p in group if controls[p].kind != "container"]
        before = max((k for k in keyed[: group[0]] if k is not None), default=-1)
        after = min((k for k in keyed[group[-1] + 1 :] if k is not None), default=len(manifest))
        missing = [i for i in range(before + 1, after) if i not in found]
        if len(missing) == len(members) and all(
            _kind_fits(manifest[i]["k"], controls[p].kind) for i, p in zip(missing, members, strict=True)
        ):
            for i, p in zip(missing, members, strict=True):
                found[i], how[i] = controls[p], "position"
    for index, method in sorted(how.items()):
        if method != "tag":
            out.warn(
                manifest[index]["id"],
                f"field tag missing (saved by LibreOffice?); found by {method}",
                affects_value=method == "position",
            )
    return found


def _check_copies(fid: str, chosen: Control, others: list[Control], out: ParsedForm) -> None:
    """Errors for a field that is not what a person sees: in hidden text, or twice with
    different answers (pasted again, or a hidden copy placed before it)."""
    if chosen.hidden:
        out.error(
            fid, "the field's text is formatted as hidden, which Word does not show; fill in a fresh copy of the form"
        )
    if any(other.hidden for other in others):
        out.error(
            fid,
            "the form has a hidden copy of this field (text formatted as hidden, which Word does not show); "
            "fill in a fresh copy of the form",
        )
    shown = [other for other in others if not other.hidden]
    if any(_shows(other) != _shows(chosen) for other in shown):
        out.error(fid, "the form has this field twice, with different answers; delete the copy you did not mean")
    elif shown:
        out.warn(fid, "the form has this field twice, with the same answer; the copy was ignored", affects_value=True)


def _shows(ctl: Control) -> tuple[str, bool | None]:
    return ctl.text.strip(), ctl.checked


def check_nesting(
    manifest: list[dict[str, str]], found: dict[int, Control], controls: list[Control], out: ParsedForm
) -> None:
    """An error for each field with another field inside it, or inside another field: its
    text would be read as part of the other's, or the other's as part of it."""
    by_element = {ctl.element: ctl for ctl in controls}
    names = {ctl.element: entry.get("a") or entry["id"] for i, entry in enumerate(manifest) if (ctl := found.get(i))}
    for index, ctl in found.items():
        fid = manifest[index]["id"]
        around = by_element.get(ctl.enclosing)
        if around is not None and around.kind != "container":
            out.error(
                fid,
                f"this field was pasted inside the field {names.get(around.element, 'another field')!r}; "
                "fill in a fresh copy of the form",
            )
        elif ctl.holds_controls:
            out.error(fid, "another field was pasted inside this one; fill in a fresh copy of the form")


def _kind_fits(expected: str, seen: str) -> bool:
    return expected == seen or {expected, seen} <= {"text", "richtext"}


# --- whole files --------------------------------------------------------------------


#: Other things people send instead of a .docx, by their first bytes.
_OTHER_FORMATS = (
    (b"\xdb\xa5", "a Word 2.0 (.doc) file, a format too old to read; open it in Word and save as .docx"),
    (b"\x31\xbe\x00\x00", "a Word for DOS or Word 1 (.doc) file, too old to read; open it in Word and save as .docx"),
    (b"{\\rtf", "a Rich Text (.rtf) file, not a Word form; open it in Word and save as .docx"),
    (b"\x89PNG", "not a Word .docx file (unknown file type: a PNG picture); send the .docx you filled in"),
    (b"\xff\xd8\xff", "not a Word .docx file (unknown file type: a JPEG picture); send the .docx you filled in"),
    (b"GIF8", "not a Word .docx file (unknown file type: a GIF picture); send the .docx you filled in"),
)
_OLE_MESSAGES = {
    "encrypted": "password-protected or encrypted; remove the password and send it again",
    "encrypted-doc": "a password-protected (encrypted) Word .doc file; remove the password, save it as .docx "
    "and send it again",
    "doc": "a legacy Word .doc file; open it in Word and save as .docx",
    "other": "an older Office file (OLE) that is not a Word document; send the .docx you filled in",
    "corrupt": "corrupt file: an older Office (OLE) file whose structure is damaged",
}


def _reject_unzippable(data: bytes) -> None:
    """Refuse by the first bytes (and, for OLE files, their directory) what is not a .docx."""
    kind = sniff(data[:8])
    if kind == "empty":
        raise RejectedFile("the file is empty (0 bytes)")
    if kind == "pdf":
        raise RejectedFile("a PDF, not a Word form; send the .docx you filled in")
    if kind == "ole":
        raise RejectedFile(_OLE_MESSAGES[ole_kind(data)])
    if kind != "zip":
        for magic, message in _OTHER_FORMATS:
            if data.startswith(magic):
                raise RejectedFile(message)
        head = data[:512].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html", b"mime-version:")):
            raise RejectedFile("a web page (.htm/.mht) saved from Word, not a Word form; save it as .docx")
        raise RejectedFile("not a Word .docx file (unknown file type)")


#: The layout a form was generated from, rebuilt from the config (see forms.layout).
LayoutSource = Callable[[Identity], Layout | None]


def parse_bytes(
    data: bytes, name: str, key: bytes, limits: Limits = DEFAULT_LIMITS, layouts: LayoutSource | None = None
) -> ParsedForm:
    """Parse one returned file; never raises for bad input (status says what happened)."""
    out = ParsedForm(file=name)
    try:
        if len(data) > limits.max_file_bytes:
            raise RejectedFile("file is " + too_big(len(data), limits.max_file_bytes, _TOO_BIG))
        _reject_unzippable(data)
        _parse_package(Package(data, limits), key, out, layouts)
    except RejectedFile as exc:
        return _rejected(out, str(exc))
    except Exception as exc:  # a bug: say so, rather than pass it off as a reading of the file
        return _bug(out, "read", exc)
    if any(i.severity == "error" for i in out.issues):
        out.status = "invalid"
    return out


def code_trace(exc: BaseException) -> str:
    """Where an exception was raised (files, lines, code) without its message: a message
    can quote the document (a value that failed to convert), and logs never hold evidence."""
    return "".join(traceback.format_tb(exc.__traceback__)).rstrip()


def _bug(out: ParsedForm, step: str, exc: Exception) -> ParsedForm:
    """A file rejected because of a bug met while it was ``step`` (read, converted): logged
    by where it happened, never by its message (which may quote the document)."""
    log.error("%s %s: unexpected %s\n%s", step, out.file, type(exc).__name__, code_trace(exc))
    return _rejected(out, f"the file could not be {step} (internal error: {type(exc).__name__})")


def _rejected(out: ParsedForm, message: str) -> ParsedForm:
    out.status, out.fields, out.locations, out.package, out.main_part = "rejected", {}, {}, None, None
    out.manifest = None
    out.issues = [Issue(None, "error", message)]
    return out


def _manifest_hash(manifest: list[dict[str, str]]) -> str:
    return manifest_hash((e.get("id", ""), e.get("k", ""), e.get("p", ""), e.get("c", "")) for e in manifest)


def _parse_package(pkg: Package, key: bytes, out: ParsedForm, layouts: LayoutSource | None) -> None:
    if is_odf(pkg):
        if odf_encrypted(pkg):
            raise RejectedFile("a password-protected OpenDocument file; remove the password and send it again")
        raise RejectedFile("an OpenDocument (.odt) file; save it as Word .docx and send it again")
    main = pkg.main_part()
    content_type = pkg.content_type(main)
    if not is_word_main_part(content_type):
        raise RejectedFile(f"not a Word document (its main part is {content_type or 'of no known type'})")
    # Damaged parts and DTDs are refused whoever made the file, before its identity is read.
    pkg.verify()
    root = pkg.xml(main)
    if not has_body(root):
        raise RejectedFile("corrupt file: the document has no body")
    props = {k[len(_PREFIX) :]: v for k, v in custom_properties(pkg).items() if k.startswith(_PREFIX)}
    identity, code = Identity.from_properties(props)
    out.audit_id = identity.audit_id
    identity.verify(key, code)
    out.identity = identity
    manifest = form_manifest(pkg, main)
    if manifest is not None and _manifest_hash(manifest) != identity.manifest:
        raise RejectedFile(f"audit {identity.audit_id}: the form's field list was edited; it cannot be trusted")
    # The layout the form was made from, when today's config still makes the same fields:
    # rebuilt only where it is needed (reading a form as Word saved it never needs the config).
    known: list[Layout | None] = []

    def layout_of() -> Layout | None:
        if not known:
            made = layouts(identity) if layouts else None
            if made is not None and identity.manifest not in (made.digest, made.unsigned_choices_digest):
                made = None
            known.append(made)
        return known[0]

    if manifest is None:
        # LibreOffice can leave custom XML parts empty, and .doc/.odt conversion drops them;
        # the config that made the form can rebuild its field list (checked by the hash).
        layout = layout_of()
        if layout is None:
            raise RejectedFile(
                f"audit {identity.audit_id}: the form's field list is missing and the config that made "
                "it has changed since; it cannot be read"
            )
        manifest = layout.manifest()
        out.warn(None, "the form's own field list was missing (emptied by LibreOffice?); rebuilt from the config")
    elif any(e.get("k") == "dropdown" and "c" not in e for e in manifest):
        # Issued before drop-down choices were signed: today's config, which makes the same
        # fields, gives them.
        layout = layout_of()
        if layout is not None and identity.manifest == layout.unsigned_choices_digest:
            manifest = _with_choices(manifest, layout)
    out.package, out.main_part, out.manifest = pkg, main, manifest
    controls = read_controls(root, document_hidden_styles(pkg, main))
    found = match_controls(manifest, controls, out)
    check_nesting(manifest, found, controls, out)
    # A field without its control: in a file converted from .doc or .odt (no control found
    # at all: its fields became plain text or legacy fields), or one typed over in place
    # (selecting a grey field and typing replaces it, in Word and in LibreOffice): read it
    # from its table cell.
    missing = len(found) < len(manifest)
    layout = layout_of() if missing else None
    cells = _cells_by_field(layout, table_cells(root)) if layout is not None else {}
    for i, entry in enumerate(manifest):
        fid = entry["id"]
        ctl = found.get(i)
        if ctl is None and fid in cells and (not found or cells[fid].text.strip()):
            if found:
                out.warn(
                    fid,
                    "the field's box was typed over and is gone; its text was read from its place in the table",
                    affects_value=True,
                )
            else:
                out.warn(fid, "field control missing (converted from .doc or .odt?); read from its place in the table")
            ctl = cells[fid]
        if ctl is not None:
            out.fields[fid] = read_value(entry, ctl, out)
            out.locations[fid] = ctl.element
        else:
            out.fields[fid] = None
            out.error(fid, f"the field {entry.get('a') or fid!r} was deleted from the form; fill it in on a fresh copy")


def _with_choices(manifest: list[dict[str, str]], layout: Layout) -> list[dict[str, str]]:
    fields = {f.id: f for f in layout.fields}
    return [
        {**entry, "c": choices_text(fields[entry["id"]])}
        if entry.get("k") == "dropdown" and "c" not in entry and entry.get("id") in fields
        else entry
        for entry in manifest
    ]


def _cells_by_field(layout: Layout, tables: list[list[list[etree._Element]]]) -> dict[str, Control]:
    """Fields read from their table cells: the layout's tables are found in the document
    as a run of consecutive tables of the same shapes (the last such run: the form body
    follows the template's own tables), and each field's cell is read as a control of
    the field's kind.  For files whose controls did not survive a conversion.  Only the
    cells of the tables found are read."""
    wanted = [b for b in layout.blocks if isinstance(b, Table)]
    shapes = [[len(row) for row in t.rows] for t in wanted]
    found = [[len(row) for row in t] for t in tables]
    starts = [i for i in range(len(found) - len(shapes) + 1) if found[i : i + len(shapes)] == shapes]
    if not starts:
        return {}
    out: dict[str, Control] = {}
    for table, doc_table in zip(wanted, tables[starts[-1] :], strict=False):
        for row, doc_row in zip(table.rows, doc_table, strict=True):
            for cell, doc_cell in zip(row, doc_row, strict=True):
                if isinstance(cell, Field):
                    out[cell.id] = _as_kind(read_cell(doc_cell), cell)
    return out


def _as_kind(cell: Control, f: Field) -> Control:
    """A table cell read as a field of kind ``f.kind``; a drop-down's items come from the
    layout, since a converted file may have none left."""
    items = cell.items or [(display, value) for value, display in f.choices]
    text = cell.text
    if f.kind in ("text", "richtext"):
        # Conversion from .doc adds empty paragraphs around a field's text: drop them.
        text = "\n".join(line for line in text.split("\n") if line.strip())
    return replace(cell, kind=f.kind, items=items, text=text)


def read_return(
    data: bytes,
    name: str,
    key: bytes,
    limits: Limits = DEFAULT_LIMITS,
    layouts: LayoutSource | None = None,
    convert_timeout: float = CONVERT_TIMEOUT,
    converter: Converter | None = None,
) -> ParsedForm:
    """A returned file read as ingest reads it: a .doc or .odt is converted to .docx by
    LibreOffice first (``converted_from`` says so), by the batch's ``converter`` if given,
    else by a LibreOffice of its own; never raises for bad input."""
    try:
        kind = legacy_kind(data, limits)
        if kind is not None:
            if converter is not None:
                data = converter.convert(data, kind, convert_timeout)
            else:
                data = to_docx(data, kind, convert_timeout)
    except RejectedFile as exc:
        return _rejected(ParsedForm(file=name), str(exc))
    except Exception as exc:  # a bug in conversion: this file is rejected, the batch goes on
        return _bug(ParsedForm(file=name), "converted", exc)
    parsed = parse_bytes(data, name, key, limits, layouts)
    parsed.converted_from = kind
    return parsed


def parse_file(
    path: Path,
    key: bytes,
    limits: Limits = DEFAULT_LIMITS,
    layouts: LayoutSource | None = None,
    convert_timeout: float = CONVERT_TIMEOUT,
    converter: Converter | None = None,
) -> ParsedForm:
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            return _rejected(ParsedForm(str(path)), "file is " + too_big(size, limits.max_file_bytes, _TOO_BIG))
        data = path.read_bytes()
    except OSError as exc:
        return _rejected(ParsedForm(str(path)), f"cannot read the file ({exc.strerror})")
    return read_return(data, str(path), key, limits, layouts, convert_timeout, converter)


def parse_files(
    paths: list[Path],
    key: bytes,
    layouts: LayoutSource | None = None,
    limits: Limits = DEFAULT_LIMITS,
    convert_timeout: float = CONVERT_TIMEOUT,
) -> list[ParsedForm]:
    """Each file parsed; the .doc and .odt files among them converted by one LibreOffice."""
    with Converter(convert_timeout) as converter:
        return [parse_file(p, key, limits, layouts, convert_timeout, converter) for p in paths]


def to_json(results: list[ParsedForm]) -> str:
    return json.dumps([r.to_json() for r in results], indent=2, ensure_ascii=False)


__all__ = ["ParsedForm", "parse_bytes", "parse_file", "parse_files", "read_return", "to_json"]


def read_forms(ws: Workspace, paths: Iterable[Path]) -> list[ParsedForm]:
    """Parse returned files with the workspace's key, config and limits, as ingest reads
    them (.doc and .odt converted by LibreOffice first).  The limits come from the config's
    summary; the config itself is loaded only if a form needs its layout rebuilt."""
    limits = ws.config_summary.limits
    layouts: Callable[[Any], Layout | None] | None = None

    def layout(identity: Any) -> Layout | None:
        nonlocal layouts
        if layouts is None:
            layouts = layout_source(ws.config)
        return layouts(identity)

    return parse_files(list(paths), ws.key(), layout, Limits.configured(limits), limits.conversion_timeout_seconds)
