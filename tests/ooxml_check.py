"""Checks the tests run over every Office file auditdocs writes.

- Microsoft's Open XML SDK validator (npm ``@ooxml-tools/validate``, installed in
  ``tests/ooxml-validator`` by ``.ci/run``): zero schema or semantic errors, apart from
  the findings listed in FALSE_POSITIVES with the schema's reason.
- Every data-bound control's XML node holds what the control shows (Word shows the node).
- Every .docx passes the document check (issue 17, after Word's accessibility checker):
  a header row on every table, a title, British English as the language, pictures whose
  alternative text says more than their title, and our fields locked as issued.
- Every .xlsx passes the workbook check (issue 17, after Excel's accessibility checker):
  a title, every list a defined table with a header row and at least one row (a "None"
  row for an empty list), nothing outside a table but a title straight above one, no
  blank layout rows, and charts whose alternative text says more than their title.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from auditdocs.ooxml.binding import stale_nodes

VALIDATOR = Path(__file__).parent / "ooxml-validator"
NODE = shutil.which("node")

#: Validator findings that are not errors by ISO/IEC 29500, each with the reason.
FALSE_POSITIVES: list[tuple[str, re.Pattern[str], str]] = [
    (
        "Sch_UnexpectedElementContentExpectingComplex",
        re.compile(r"^/x:styleSheet\[1\]/x:fonts\[1\]/x:font\[\d+\]$"),
        "openpyxl writes a font's children (name, family, color, sz, scheme) in another order than "
        "Office does; ISO/IEC 29500-1 §18.8.22 defines CT_Font as an unbounded xsd:choice, so any "
        "order is valid (Excel opens these files without a repair)",
    ),
]


def needs_validator() -> None:
    ready = NODE is not None and (VALIDATOR / "node_modules" / "@ooxml-tools" / "validate").is_dir()
    if not ready:
        if os.environ.get("AUDITDOCS_REQUIRE_VALIDATOR") == "1":
            pytest.fail("the Open XML validator is not installed (npm ci --prefix tests/ooxml-validator)")
        pytest.skip("the Open XML validator is not installed (npm ci --prefix tests/ooxml-validator)")


def _false_positive(error: dict) -> bool:
    return any(
        error.get("id") == code and pattern.match(error.get("path", {}).get("xpath", ""))
        for code, pattern, _reason in FALSE_POSITIVES
    )


def validation_errors(paths: list[Path]) -> dict[str, list[str]]:
    """Each file's validator errors (false positives left out), as lines; both cores used."""
    needs_validator()
    assert NODE is not None
    files = [str(p) for p in paths]
    halves = [files[0::2], files[1::2]]
    procs = [
        subprocess.Popen(
            [NODE, str(VALIDATOR / "validate-many.mjs"), *half],
            cwd=VALIDATOR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for half in halves
        if half
    ]
    results: dict[str, list[str]] = {}
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
        for line in out.splitlines():
            record = json.loads(line)
            results[record["file"]] = [
                f"{e['id']} at {e['path']['partUri']}{e['path']['xpath']}: {e['description']}"
                for e in record["errors"]
                if not _false_positive(e)
            ]
    assert set(results) == set(files), "the validator skipped files"
    return results


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
DC = "{http://purl.org/dc/elements/1.1/}"
FORM = "{urn:auditdocs:form:1}"
LANGUAGE = "en-GB"
#: The fields a form fills in for the auditor: their text is locked too.
PREFILLED = re.compile(r"^(case|auditor|audit)\.")
#: Folders whose documents the document check leaves out (none: the reports' part of
#: issue 17 is done too).
PENDING: tuple[str, ...] = ()


def _xml(z: zipfile.ZipFile, name: str) -> etree._Element | None:
    return etree.fromstring(z.read(name)) if name in z.namelist() else None


def document_problems(data: bytes) -> list[str]:
    """What Word's accessibility checker (and a screen reader) would find missing in a
    .docx: a table without a header row (``w:tblHeader`` on its first row), no title, a
    language other than British English (styles' default, theme fonts), a picture whose
    alternative text is empty or no more than its title, one of our fields not locked
    as issued (every field ``sdtLocked``, the prefilled ones ``sdtContentLocked``)."""
    z = zipfile.ZipFile(io.BytesIO(data))
    problems = []
    core = _xml(z, "docProps/core.xml")
    title = core.find(f"{DC}title") if core is not None else None
    if title is None or not (title.text or "").strip():
        problems.append("no title (docProps/core.xml dc:title)")
    styles = _xml(z, "word/styles.xml")
    lang = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang") if styles is not None else None
    if lang is None or lang.get(f"{W}val") != LANGUAGE:
        problems.append(f"the styles' default language is not {LANGUAGE}")
    settings = _xml(z, "word/settings.xml")
    theme = settings.find(f"{W}themeFontLang") if settings is not None else None
    if theme is not None and theme.get(f"{W}val") != LANGUAGE:
        problems.append(f"the theme fonts' language is not {LANGUAGE}")
    body = etree.fromstring(z.read("word/document.xml"))
    for n, table in enumerate(body.iter(f"{W}tbl"), 1):
        first = table.find(f"{W}tr")
        if first is None or first.find(f"{W}trPr/{W}tblHeader") is None:
            cells = ["".join(t.text or "" for t in tc.iter(f"{W}t")) for tc in (first if first is not None else [])]
            problems.append(f"table {n} has no header row (its first row: {cells[:3]})")
    for doc_pr in body.iter(f"{WP}docPr"):
        descr, name = (doc_pr.get("descr") or "").strip(), (doc_pr.get("title") or doc_pr.get("name") or "").strip()
        if not descr or len(descr) <= len(name):
            problems.append(f"picture {name!r}: its alternative text is no more than its title ({descr!r})")
    if any(n.startswith("customXml/") and FORM.encode() in z.read(n) for n in z.namelist()):
        for sdt in body.iter(f"{W}sdt"):
            tag = sdt.find(f"{W}sdtPr/{W}tag")
            if tag is None:
                continue
            field = tag.get(f"{W}val", "")
            lock = sdt.find(f"{W}sdtPr/{W}lock")
            wanted = "sdtContentLocked" if PREFILLED.match(field) else "sdtLocked"
            if lock is None or lock.get(f"{W}val") != wanted:
                problems.append(f"field {field}: not locked ({wanted})")
    return problems


X = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PR = "{http://schemas.openxmlformats.org/package/2006/relationships}"
XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
DML = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
CHART = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
_CELL = re.compile(r"([A-Z]+)(\d+)")


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id → (type's last word, target part)."""
    folder, name = posixpath.split(part)
    rels = _xml(z, posixpath.join(folder, "_rels", name + ".rels"))
    out = {}
    for rel in rels if rels is not None else []:
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], path)
    return out


def _cell(ref: str) -> tuple[int, int]:
    """'B12' → (12, 2)."""
    m = _CELL.fullmatch(ref)
    assert m, ref
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _filled(z: zipfile.ZipFile, part: str) -> set[tuple[int, int]]:
    """The (row, column) of every cell of a sheet that shows something."""
    out = set()
    for _, c in etree.iterparse(io.BytesIO(z.read(part)), tag=f"{X}c"):
        if c.find(f"{X}v") is not None or "".join(c.itertext()).strip():
            out.add(_cell(c.get("r", "")))
        c.clear()
    return out


def _chart_title(z: zipfile.ZipFile, part: str) -> str:
    chart = _xml(z, part)
    title = chart.find(f".//{CHART}title") if chart is not None else None
    if title is None:
        return ""
    return "".join(t.text or "" for t in title.iter(f"{DML}t", f"{CHART}v"))


def workbook_problems(data: bytes) -> list[str]:
    """What Excel's accessibility checker (and a screen reader) would find missing in an
    .xlsx: no title; a list that is not a defined table (a cell outside every table, but
    a title straight above one), a table without a header row or without a row under it,
    a blank row used for layout; a chart whose alternative text (``xdr:cNvPr descr``) is
    empty or no more than its title."""
    z = zipfile.ZipFile(io.BytesIO(data))
    problems = []
    core = _xml(z, "docProps/core.xml")
    title = core.find(f"{DC}title") if core is not None else None
    if title is None or not (title.text or "").strip():
        problems.append("no title (docProps/core.xml dc:title)")
    book = etree.fromstring(z.read("xl/workbook.xml"))
    book_rels = _rels(z, "xl/workbook.xml")
    for sheet in book.iter(f"{X}sheet"):
        name, part = sheet.get("name"), book_rels[sheet.get(f"{R}id", "")][1]
        rels = _rels(z, part)
        tables = []
        for kind, target in rels.values():
            if kind != "table":
                continue
            table = etree.fromstring(z.read(target))
            (top, left), (bottom, right) = (_cell(c) for c in table.get("ref", "").split(":"))
            tables.append((top, left, bottom, right))
            label = f"sheet {name!r}: table {table.get('name')!r}"
            if table.get("headerRowCount") == "0":
                problems.append(f"{label} has no header row")
            if bottom <= top:
                problems.append(f"{label} has no rows (an empty list needs a row saying so)")
        filled = _filled(z, part)
        rows: dict[int, set[int]] = {}
        for r, c in filled:
            rows.setdefault(r, set()).add(c)
        heads = {t[0] for t in tables}
        for r, c in sorted(filled):
            inside = any(top <= r <= bottom and left <= c <= right for top, left, bottom, right in tables)
            titled = rows[r] == {1} and r + 1 in heads
            if not inside and not titled:
                problems.append(f"sheet {name!r}: {_ref(r, c)} is outside every defined table")
                break
        blank = [r for r in range(min(rows, default=1), max(rows, default=0)) if r not in rows]
        if blank:
            problems.append(f"sheet {name!r}: blank layout row(s) {blank[:5]}")
        for kind, drawing in rels.values():
            if kind != "drawing":
                continue
            drawing_rels = _rels(z, drawing)
            for frame in etree.fromstring(z.read(drawing)).iter(f"{XDR}graphicFrame", f"{XDR}pic"):
                props = frame.find(f".//{XDR}cNvPr")
                descr = (props.get("descr") or "").strip() if props is not None else ""
                ref = frame.find(f".//{CHART}chart")
                shown = _chart_title(z, drawing_rels[ref.get(f"{R}id", "")][1]) if ref is not None else ""
                if not descr or len(descr) <= len(shown.strip()):
                    problems.append(f"sheet {name!r}: chart {shown!r}: its alternative text is no more than its "
                                    f"title ({descr!r})")  # fmt: skip
    return problems


def _ref(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def check_workbooks(paths: list[Path]) -> list[str]:
    """The workbook check over every .xlsx of ``paths``, as lines."""
    return [f"{p}: {line}" for p in paths if p.suffix == ".xlsx" for line in workbook_problems(p.read_bytes())]


def check_documents(paths: list[Path]) -> list[str]:
    """The document check over every .docx of ``paths`` (but PENDING ones), as lines."""
    return [
        f"{p}: {line}"
        for p in paths
        if p.suffix == ".docx" and not set(PENDING) & set(p.parts)
        for line in document_problems(p.read_bytes())
    ]


def check_office_files(paths: list[Path]) -> None:
    """Every file validates, every .docx keeps its bound nodes equal to its body and passes
    the document check, every .xlsx passes the workbook check."""
    assert paths
    problems = [f"{p}: {line}" for p in paths if p.suffix == ".docx" for line in stale_nodes(p.read_bytes())]
    problems += check_documents(paths)
    problems += check_workbooks(paths)
    problems += [f"{name}: {line}" for name, lines in validation_errors(paths).items() for line in lines]
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} in all)"


def office_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".docx", ".xlsx") and p.is_file())
