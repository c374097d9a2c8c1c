"""Fill a generated form the way Word does, for the demo, tests and benchmarks.

Word does not write a filled control tidily: it removes ``w:showingPlcHdr``, splits
typed text into many runs with ``w:rsidR`` attributes, drops in ``w:proofErr`` and
bookmarks, writes ``w:ins``/``w:del`` when changes are tracked, and writes the
checkbox state as ``w14:val`` 1, 0, true, false or not at all.  This module writes
all of those, so the parser is tested against what really comes back.
"""

from __future__ import annotations

import io
import itertools
import random
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from lxml import etree

from auditdocs.errors import InternalError
from auditdocs.ooxml import namespaces as ns
from auditdocs.ooxml.binding import bound_changes
from auditdocs.ooxml.package import Package

W, W14 = ns.W, ns.W14
Value = str | bool | date | None


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


@dataclass(frozen=True)
class WordStyle:
    """How the simulated Word writes things."""

    seed: int = 0
    split_runs: bool = True  # many runs with rsids, proofErr and a bookmark
    checkbox_val: str = "1"  # what w14:val says for a ticked box: 1, true, on, or "" (left out)
    unchecked_val: str = "0"
    full_date: bool = True  # date picker used (w:fullDate written)
    tracked: bool = False  # track changes on: new text in w:ins, placeholder in w:del
    comment: str | None = None  # a comment anchored inside each text field
    author: str = "Auditor"


def _runs(
    text: str, rng: random.Random, style: WordStyle, bookmarks: Iterator[int], bold_words: bool = False
) -> list[etree._Element]:
    """Runs for one paragraph's text: \\n → w:br, \\t → w:tab, split like Word does (with a
    bookmark whose id, from ``bookmarks``, is unique in the document, as Word's are)."""
    runs: list[etree._Element] = []
    pieces: list[str] = []
    bookmark = ""
    if style.split_runs and len(text) > 3:
        cuts = sorted(rng.sample(range(1, len(text)), min(4, len(text) - 1)))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    else:
        pieces = [text]
    for n, piece in enumerate(pieces):
        r = etree.Element(_w("r"))
        if style.split_runs:
            r.set(_w("rsidR"), f"{rng.randrange(16**8):08X}")
            if bold_words and n == 1:
                etree.SubElement(etree.SubElement(r, _w("rPr")), _w("b"))
        for i, line in enumerate(piece.split("\n")):
            if i:
                etree.SubElement(r, _w("br"))
            for j, chunk in enumerate(line.split("\t")):
                if j:
                    etree.SubElement(r, _w("tab"))
                if chunk:
                    t = etree.SubElement(r, _w("t"))
                    t.text = chunk
                    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        runs.append(r)
        if style.split_runs and n == 0 and len(pieces) > 1:
            runs.append(etree.Element(_w("proofErr"), {_w("type"): "spellStart"}))
            bookmark = str(next(bookmarks))
            runs.append(etree.Element(_w("bookmarkStart"), {_w("id"): bookmark, _w("name"): f"_Hlk{bookmark}"}))
        if style.split_runs and n == 1:
            runs.append(etree.Element(_w("proofErr"), {_w("type"): "spellEnd"}))
    if bookmark:
        runs.append(etree.Element(_w("bookmarkEnd"), {_w("id"): bookmark}))
    return runs


class _Filler:
    def __init__(self, style: WordStyle) -> None:
        self.style = style
        self.rng = random.Random(style.seed)
        self.change_id = 9000
        self.comments: list[tuple[int, str]] = []
        self.bookmarks = itertools.count(100)

    def _tracked(self, tag: str, children: list[etree._Element]) -> etree._Element:
        self.change_id += 1
        el = etree.Element(
            _w(tag),
            {_w("id"): str(self.change_id), _w("author"): self.style.author, _w("date"): "2026-11-20T10:00:00Z"},
        )
        el.extend(children)
        return el

    def _comment_runs(self) -> tuple[list[etree._Element], list[etree._Element]]:
        if self.style.comment is None:
            return [], []
        cid = len(self.comments)
        self.comments.append((cid, self.style.comment))
        start = etree.Element(_w("commentRangeStart"), {_w("id"): str(cid)})
        end = etree.Element(_w("commentRangeEnd"), {_w("id"): str(cid)})
        ref = etree.Element(_w("r"))
        etree.SubElement(ref, _w("commentReference"), {_w("id"): str(cid)})
        return [start], [end, ref]

    def _old_content(self, content: etree._Element) -> list[etree._Element]:
        """The placeholder runs, turned into a tracked deletion."""
        old = []
        for r in content.iter(_w("r")):
            r = etree.fromstring(etree.tostring(r))
            for t in r.iter(_w("t")):
                t.tag = _w("delText")
            old.append(r)
        return old

    def set_text(self, sdt: etree._Element, text: str, paragraphs: bool) -> None:
        pr, content = _pr_content(sdt)
        _drop(pr, "showingPlcHdr")
        old = self._old_content(content) if self.style.tracked else []
        block = content.find(_w("p")) is not None
        lines = text.split("\n") if (paragraphs and block) else [text]
        before, after = self._comment_runs()
        new_paras = []
        for n, line in enumerate(lines):
            runs = _runs(line, self.rng, self.style, self.bookmarks, bold_words=True)
            if n == 0:
                runs = before + runs
            if n == len(lines) - 1:
                runs = runs + after
            if self.style.tracked:
                runs = ([self._tracked("del", old)] if n == 0 and old else []) + [self._tracked("ins", runs)]
            new_paras.append(runs)
        for child in list(content):
            content.remove(child)
        if block:
            for runs in new_paras:
                p = etree.SubElement(content, _w("p"))
                p.extend(runs)
        else:
            content.extend(new_paras[0])

    def set_shown(self, sdt: etree._Element, shown: str) -> None:
        pr, content = _pr_content(sdt)
        _drop(pr, "showingPlcHdr")
        for child in list(content):
            content.remove(child)
        r = etree.SubElement(content, _w("r"))
        t = etree.SubElement(r, _w("t"))
        t.text = shown

    def set_checkbox(self, sdt: etree._Element, checked: bool) -> None:
        pr = _pr_content(sdt)[0]
        box = pr.find(f"{{{W14}}}checkbox")
        if box is None:
            raise InternalError("a checkbox content control without w14:checkbox")
        el = box.find(f"{{{W14}}}checked")
        val = self.style.checkbox_val if checked else self.style.unchecked_val
        if el is None:
            el = etree.Element(f"{{{W14}}}checked")
            box.insert(0, el)
        if val == "":
            el.attrib.pop(f"{{{W14}}}val", None)
        else:
            el.set(f"{{{W14}}}val", val)
        for t in sdt.iter(_w("t")):
            t.text = "\u2612" if checked else "\u2610"

    def fill(self, root: etree._Element, values: Mapping[str, Value]) -> set[str]:
        done: set[str] = set()
        for sdt in root.iter(_w("sdt")):
            pr = sdt.find(_w("sdtPr"))
            tag = pr.find(_w("tag")) if pr is not None else None
            fid = tag.get(_w("val")) if tag is not None else None
            if pr is None or fid is None or fid not in values:
                continue
            value = values[fid]
            done.add(fid)
            if value is None:
                continue
            if pr.find(f"{{{W14}}}checkbox") is not None:
                self.set_checkbox(sdt, bool(value))
            elif (dd := pr.find(_w("dropDownList"))) is not None:
                items = {i.get(_w("value")): i.get(_w("displayText")) for i in dd.iter(_w("listItem"))}
                self.set_shown(sdt, items.get(str(value)) or str(value))
            elif (picker := pr.find(_w("date"))) is not None:
                if isinstance(value, date):
                    if self.style.full_date:
                        picker.set(_w("fullDate"), value.isoformat() + "T00:00:00Z")
                    self.set_shown(sdt, value.strftime("%d/%m/%Y"))
                else:
                    self.set_shown(sdt, str(value))  # typed text, no picker
            else:
                self.set_text(sdt, str(value), paragraphs=pr.find(_w("text")) is None)
        return done


def _pr_content(sdt: etree._Element) -> tuple[etree._Element, etree._Element]:
    pr, content = sdt.find(_w("sdtPr")), sdt.find(_w("sdtContent"))
    if pr is None or content is None:
        raise InternalError("a content control without w:sdtPr or w:sdtContent")
    return pr, content


def _drop(parent: etree._Element, tag: str) -> None:
    for el in parent.findall(_w(tag)):
        parent.remove(el)


def _comments_part(comments: list[tuple[int, str]]) -> bytes:
    root = etree.Element(_w("comments"), nsmap={"w": W})
    for cid, text in comments:
        c = etree.SubElement(root, _w("comment"), {_w("id"): str(cid), _w("author"): "Reviewer", _w("initials"): "R"})
        p = etree.SubElement(c, _w("p"))
        t = etree.SubElement(etree.SubElement(p, _w("r")), _w("t"))
        t.text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def fill_form(data: bytes, values: Mapping[str, Value], style: WordStyle | None = None) -> bytes:
    """Return a copy of a generated form with ``values`` filled in by field id."""
    style = style or WordStyle()
    pkg = Package(data)
    main = pkg.main_part()
    root = pkg.xml(main)
    filler = _Filler(style)
    unknown = set(values) - filler.fill(root, values)
    if unknown:
        raise KeyError(f"no such fields in the form: {sorted(unknown)}")
    parts = {info.filename: pkg.read(info.filename) for info in pkg.zip.infolist()}
    parts[main] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    # Word updates a bound control's XML node as the choice is made.
    parts.update(bound_changes(pkg, main, root))
    if filler.comments:
        parts["word/comments.xml"] = _comments_part(filler.comments)
        rels_name = "word/_rels/document.xml.rels"
        rels = etree.fromstring(parts[rels_name])
        etree.SubElement(
            rels, f"{{{ns.PKG_REL}}}Relationship", Id="rIdComments9", Type=ns.REL_COMMENTS, Target="comments.xml"
        )
        parts[rels_name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
        types = etree.fromstring(parts["[Content_Types].xml"])
        etree.SubElement(
            types,
            f"{{{ns.CT}}}Override",
            PartName="/word/comments.xml",
            ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml",
        )
        parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, raw in parts.items():
            z.writestr(name, raw)
    return out.getvalue()
