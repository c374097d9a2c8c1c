"""One LibreOffice per batch (issue 15): the .doc and .odt returns of a batch are converted
by one LibreOffice, started on the first; a file it hangs or dies on is killed with every
process it started and rejected alone, and the rest of the batch converts on a fresh one;
nothing is left running or on disk after the batch, also when it is interrupted; worker
processes started with ``spawn`` (Windows, macOS) do the same as one process.

Real LibreOffice throughout.  The file that makes LibreOffice labour is a 3 KB .odt of
25,000 table rows that passes every check before LibreOffice (tens of seconds to convert on
a 2-core machine): given a timeout of a few seconds, it stands for any file LibreOffice
hangs on.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import random
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import psutil
import pytest

from auditdocs.errors import RejectedFile, UsageError
from auditdocs.forms.layout import layout_source
from auditdocs.forms.parse import read_return
from auditdocs.ooxml.convert import Converter, _instance_pipe, _Office, legacy_kind
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.returns.ingest import ACCEPTED, AMEND, REJECTED, Ingester, pool_context
from auditdocs.sample.answers import AUDIT_DATE, careless, complete_values
from auditdocs.workspace import Workspace
from tests.conftest import blank_form, libreoffice_convert, month_workspace, needs_libreoffice

pytestmark = pytest.mark.libreoffice

PROFILE = "-env:UserInstallation="
DOCS = ["2026-11-001", "2026-11-002", "2026-11-003"]
ODTS = ["2026-11-004", "2026-11-005"]


def answers(audit_id: str) -> dict:
    """The sample's complete answers with evidence of this audit's own."""
    values = complete_values(AUDIT_DATE)
    values["overall.summary"] = f"Audit {audit_id}: the child's plan is reviewed on time and the record is clear."
    return values


def slow_odt(rows: int = 25_000) -> bytes:
    """An .odt LibreOffice takes long over: one table of many rows of random words (not
    compressible enough to be refused as a zip bomb, few enough tags to pass our limits)."""
    words = random.Random(15)
    cells = "".join(
        "<table:table-row><table:table-cell><text:p>"
        + "".join(words.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))
        + "</text:p></table:table-cell></table:table-row>"
        for _ in range(rows)
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.2">'
        f'<office:body><office:text><table:table table:name="T"><table:table-column/>{cells}'
        "</table:table></office:text></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)
        z.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/"'
            ' manifest:media-type="application/vnd.oasis.opendocument.text"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return out.getvalue()


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    return month_workspace(tmp_path_factory.mktemp("convert-batch") / "qa")


@pytest.fixture
def fresh(ws, tmp_path) -> Workspace:
    """A copy of the workspace (its key, store and forms) as it was before any ingest."""
    shutil.copytree(ws.root, tmp_path / "qa")
    return Workspace(tmp_path / "qa")


@pytest.fixture(scope="module")
def legacy(ws, tmp_path_factory, lo_profile) -> dict[str, Path]:
    """Filled forms saved as .doc and .odt (one LibreOffice run per format), by audit id."""
    needs_libreoffice()
    src = tmp_path_factory.mktemp("legacy-src")
    out = tmp_path_factory.mktemp("legacy")
    for audit_id in DOCS + ODTS:
        (src / f"{audit_id}.docx").write_bytes(fill_form(blank_form(ws, audit_id), answers(audit_id)))
    made = libreoffice_convert([src / f"{a}.docx" for a in DOCS], "doc:MS Word 97", out, lo_profile)
    made |= libreoffice_convert([src / f"{a}.docx" for a in ODTS], "odt", out, lo_profile)
    return made


@pytest.fixture(scope="class")
def converter() -> Iterator[Converter]:
    """One converter shared by the tests of a class (each restart is counted)."""
    with Converter() as shared:
        yield shared


def soffices(root: psutil.Process | None = None) -> list[psutil.Process]:
    """LibreOffice processes started by this process (or ``root``), however deep."""
    root = root or psutil.Process()
    found = []
    for proc in root.children(recursive=True):
        try:
            if proc.name().startswith(("soffice", "oosplash")) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.NoSuchProcess:
            pass
    return found


def gone(procs: list[psutil.Process]) -> bool:
    _alive = psutil.wait_procs(procs, timeout=5)[1]
    return not [p for p in _alive if p.status() != psutil.STATUS_ZOMBIE]


class TestOneLibreOfficeForABatch:
    """Tests sharing one converter, closed after them."""

    def test_a_batch_of_legacy_files_is_converted_by_one_libreoffice(self, converter, legacy, ws):
        started = converter.starts
        running = []
        for audit_id, path in legacy.items():
            kind = legacy_kind(path.read_bytes())
            assert kind == path.suffix[1:]
            docx = converter.convert(path.read_bytes(), kind)
            running.append({p.pid for p in soffices()})
            parsed = read_return(docx, path.name, ws.key(), layouts=layout_source(ws.config))
            assert parsed.audit_id == audit_id
        assert converter.starts == started + 1
        # the same LibreOffice (its launcher and soffice.bin) throughout, and no other
        assert len(running[0]) >= 1 and all(pids == running[0] for pids in running)

    def test_read_return_converts_with_the_batch_converter_and_reads_the_same(self, converter, legacy, ws):
        path = legacy["2026-11-004"]
        started = converter.starts
        batch = read_return(
            path.read_bytes(), path.name, ws.key(), layouts=layout_source(ws.config), converter=converter
        )
        alone = read_return(path.read_bytes(), path.name, ws.key(), layouts=layout_source(ws.config))  # its own run
        assert batch.status == alone.status == "ok" and batch.converted_from == "odt"
        assert (
            batch.fields == alone.fields
            and batch.fields["overall.summary"] == answers("2026-11-004")["overall.summary"]
        )
        assert converter.starts - started <= 1

    def test_a_file_its_kinds_filter_cannot_read_is_opened_by_its_detected_type(self, converter, legacy, ws):
        """As a Word 6 or 95 .doc would be: here an .odt handed over as a .doc."""
        started = converter.starts
        docx = converter.convert(legacy["2026-11-005"].read_bytes(), "doc")
        parsed = read_return(docx, "old.doc", ws.key(), layouts=layout_source(ws.config))
        assert parsed.status == "ok" and parsed.audit_id == "2026-11-005" and converter.starts == started

    def test_a_libreoffice_that_dies_on_a_file_is_reported_alone_and_restarted(self, converter, legacy):
        """A crash, made real: soffice.bin is killed while it converts the slow file."""
        converter.convert(legacy["2026-11-001"].read_bytes(), "doc")
        started, before = converter.starts, soffices()
        assert before

        def crash() -> None:
            time.sleep(1.5)
            for proc in soffices():
                if proc.name().startswith("soffice.bin"):
                    proc.kill()

        threading.Thread(target=crash).start()
        with pytest.raises(RejectedFile, match=r"^LibreOffice stopped while converting the \.odt file"):
            converter.convert(slow_odt(), "odt", timeout=60)
        assert gone(before)  # the launcher too
        after = converter.convert(legacy["2026-11-002"].read_bytes(), "doc")
        assert after.startswith(b"PK") and converter.starts == started + 1


def test_a_file_that_hangs_libreoffice_is_killed_and_rejected_alone(fresh, legacy, tmp_path):
    """Ingest with a short timeout: the slow file is killed at it, with everything LibreOffice
    started, and the files after it convert on a LibreOffice started again."""
    slow = tmp_path / "slow.odt"
    slow.write_bytes(slow_odt())
    assert legacy_kind(slow.read_bytes()) == "odt"  # nothing before LibreOffice refuses it
    ingester = Ingester(fresh, convert_timeout=3)
    seen: list[set[int]] = []
    paths = [legacy["2026-11-001"], slow, legacy["2026-11-002"], legacy["2026-11-005"]]
    started = time.perf_counter()
    result = ingester.run(paths, progress=lambda _o: seen.append({p.pid for p in soffices()}))
    assert time.perf_counter() - started < 30  # not the half minute and more LibreOffice would take
    got = {Path(o.name).name: (o.status, o.reason) for o in result.outcomes}
    assert got["slow.odt"] == (
        REJECTED,
        "converting the .odt file took longer than 3 s; ask the auditor to save it as .docx",
    )
    assert {name: status for name, (status, _) in got.items() if name != "slow.odt"} == {
        "2026-11-001.doc": ACCEPTED,
        "2026-11-002.doc": ACCEPTED,
        "2026-11-005.odt": ACCEPTED,
    }
    assert ingester.converter.starts == 2
    assert seen[0] and seen[0].isdisjoint(seen[2]) and seen[2] == seen[3]  # killed, then one new one
    assert soffices() == []  # closed at the end of the batch


def test_an_interrupted_batch_leaves_no_libreoffice_behind(fresh, legacy, monkeypatch):
    started: list[_Office] = []
    real_start = Converter._start

    def start(self, *args):
        started.append(real_start(self, *args))
        return started[-1]

    monkeypatch.setattr(Converter, "_start", start)

    def interrupt(outcome) -> None:
        assert soffices()  # LibreOffice is running for the rest of the batch
        raise KeyboardInterrupt

    ingester = Ingester(fresh)
    with pytest.raises(KeyboardInterrupt):
        ingester.run([legacy["2026-11-003"], legacy["2026-11-004"]], progress=interrupt)
    [running] = started
    assert ingester.converter.starts == 1
    assert soffices() == []
    assert not running.folder.exists()  # its profile and temporary files
    if os.name == "posix":  # and the sockets of its pipes (LibreOffice puts them in /tmp)
        for name in (running.pipe, _instance_pipe(running.profile)):
            assert not Path(f"/tmp/OSL_PIPE_{os.getuid()}_{name}").exists()


def test_auditdocs_soffice_naming_no_file_is_a_one_line_error(ws, legacy, tmp_path, monkeypatch):
    missing = tmp_path / "LibreOffice" / "program" / "soffice.exe"
    monkeypatch.setenv("AUDITDOCS_SOFFICE", str(missing))
    result = read_return(legacy["2026-11-001"].read_bytes(), "old.doc", ws.key())
    [issue] = result.issues
    assert result.status == "rejected" and "\n" not in issue.message
    assert issue.message.startswith(f"AUDITDOCS_SOFFICE is set to {missing}, which is not a file; set it to")


def test_auditdocs_soffice_is_used_before_the_path(ws, legacy, tmp_path, monkeypatch):
    if shutil.which("sh") is None:
        pytest.skip("needs a POSIX shell for the stand-in soffice")
    marker = tmp_path / "called"
    fake = tmp_path / "my soffice"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > '{marker}'\nexit 1\n")
    fake.chmod(0o700)
    monkeypatch.setenv("AUDITDOCS_SOFFICE", str(fake))
    result = read_return(legacy["2026-11-001"].read_bytes(), "old.doc", ws.key())
    assert result.status == "rejected" and marker.exists()


def test_an_unknown_start_method_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "teleport")
    with pytest.raises(UsageError, match=r"^AUDITDOCS_START_METHOD is 'teleport', .* set it to one of .*spawn"):
        pool_context()
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "spawn")
    assert pool_context().get_start_method() == "spawn"


def test_spawned_workers_ingest_a_mixed_batch_as_one_process_does(ws, legacy, tmp_path, monkeypatch):
    """Two workers started with spawn (as on Windows and macOS), each converting with a
    LibreOffice of its own, give what one process gives on a copy of the same workspace."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for audit_id, path in legacy.items():
        shutil.copy(path, inbox / path.name)
    (inbox / "2026-11-006.docx").write_bytes(fill_form(blank_form(ws, "2026-11-006"), answers("2026-11-006")))
    (inbox / "2026-11-007.docx").write_bytes(
        fill_form(blank_form(ws, "2026-11-007"), careless(answers("2026-11-007")), WordStyle(seed=3))
    )
    (inbox / "not a form.docx").write_bytes(b"%PDF-1.4 not a form")
    message = EmailMessage()
    message["From"] = "auditor@northbrook.example"
    message["Subject"] = "My audit"
    message.set_content("Attached.")
    message.add_attachment(
        fill_form(blank_form(ws, "2026-11-008"), answers("2026-11-008")),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="2026-11-008.docx",
    )
    (inbox / "returns.eml").write_bytes(bytes(message))
    copies = []
    for name in ("one", "two"):
        shutil.copytree(ws.root, tmp_path / name)
        copies.append(Workspace(tmp_path / name))

    def outcomes(result) -> list[tuple]:
        return sorted(
            (Path(o.name).name, o.status, o.audit_id, o.converted_from, o.reason if o.status == REJECTED else None)
            for o in result.outcomes
        )

    one = Ingester(copies[0]).run([inbox])
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "spawn")
    workers = Workers()
    two = Ingester(copies[1]).run([inbox], progress=workers.look, jobs=2)
    assert outcomes(two) == outcomes(one)
    assert {(name, status) for name, status, *_ in outcomes(one)} >= {
        ("2026-11-001.doc", ACCEPTED),
        ("2026-11-004.odt", ACCEPTED),
        ("2026-11-006.docx", ACCEPTED),
        ("2026-11-007.docx", AMEND),
        ("not a form.docx", REJECTED),
        ("returns.eml!2026-11-008.docx", ACCEPTED),
    }
    spawned = {pid for pid, cmdline in workers.seen.items() if "spawn_main" in cmdline}
    assert len(spawned) == 2 and workers.converting and workers.converting <= spawned  # each with its own
    assert workers.left_nothing()


def test_forked_workers_close_their_libreoffice_as_they_exit(fresh, legacy, monkeypatch):
    """atexit does not run in a forked worker: its LibreOffice is closed by a finalizer."""
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "fork")
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here")
    workers = Workers()
    result = Ingester(fresh).run([legacy[a] for a in (*DOCS, *ODTS)], progress=workers.look, jobs=2)
    assert {o.status for o in result.outcomes} == {ACCEPTED}
    assert workers.converting and workers.left_nothing()


class Workers:
    """What an ingest's worker processes are seen running, from its progress callback."""

    def __init__(self) -> None:
        self.seen: dict[int, str] = {}  # pid: command line
        self.converting: set[int] = set()
        self.offices: list[psutil.Process] = []
        self.folders: set[Path] = set()  # their LibreOffice folders (profile, temporary files)

    def look(self, _outcome) -> None:
        for child in psutil.Process().children():
            try:
                self.seen[child.pid] = " ".join(child.cmdline())
                for office in soffices(child):
                    self.converting.add(child.pid)
                    self.offices.append(office)
                    self.folders.update(
                        Path(arg.removeprefix(f"{PROFILE}file://")).parent
                        for arg in office.cmdline()
                        if arg.startswith(PROFILE)
                    )
            except psutil.NoSuchProcess:
                pass

    def left_nothing(self) -> bool:
        """Each worker closed its LibreOffice as it exited: its processes and its folder
        (removed only by the converter's close) are gone."""
        return bool(self.folders) and gone(self.offices) and not any(f.exists() for f in self.folders)


def test_without_a_python_that_has_uno_each_file_gets_a_libreoffice_of_its_own(legacy, monkeypatch):
    """No python3-uno (or a LibreOffice without its Python): still converted, the old way."""
    from auditdocs.ooxml import convert

    monkeypatch.setitem(convert._UNO_PYTHONS, convert.find_soffice(), None)
    with Converter() as alone:
        docx = alone.convert(legacy["2026-11-005"].read_bytes(), "odt")
    assert docx.startswith(b"PK") and alone.starts == 0


def test_a_converter_whose_owner_is_killed_leaves_nothing_behind(legacy, tmp_path):
    """auditdocs killed (no finalizer runs): the helper sees its stdin close, asks LibreOffice
    to quit and removes its folder."""
    import subprocess
    import sys

    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from auditdocs.ooxml.convert import Converter\n"
        "converter = Converter()\n"
        f"converter.convert(Path({str(legacy['2026-11-001'])!r}).read_bytes(), 'doc')\n"
        "print(converter._running.folder, flush=True)\n"
        "os._exit(0)\n"
    )
    folder = Path(
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and folder.exists():
        time.sleep(0.2)
    assert not folder.exists()
    left = [p for p in psutil.process_iter(["cmdline"]) if str(folder) in " ".join(p.info["cmdline"] or [])]
    assert gone(left)
