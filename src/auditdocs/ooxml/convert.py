"""Legacy returns (.doc, .odt) converted to .docx with headless LibreOffice.

After conversion the fields are plain text or legacy form fields; the parser reads
them from their table cells and says so.

A batch uses one ``Converter``: one LibreOffice, started on the batch's first legacy
file with a private profile and temporary folder, listening on a private pipe, and driven
over UNO by a small helper (``uno_convert.py``) run under a Python that has LibreOffice's
UNO bridge (LibreOffice's own on Windows and macOS, python3-uno's on Linux): 0.85-0.95 s
per file when each starts its own LibreOffice, under 0.1 s in a batch (bench/bench_convert.py).
Without such a Python, and for a single file (``to_docx``), each file gets its own run.

LibreOffice is a large parser of its own, so a file is checked before it gets there:
an encrypted .doc or .odt is refused (LibreOffice cannot open it without a password),
and an OpenDocument package is opened with the same limits as a .docx, its parts
checked (no DTDs: an external entity must never be resolved by anyone).  A conversion
that runs too long, or a LibreOffice that dies on a file, is killed with every process
it started and that file alone is rejected; the next file starts a fresh LibreOffice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from auditdocs.errors import RejectedFile
from auditdocs.ooxml.package import (
    DEFAULT_LIMITS,
    OLE_MAGIC,
    ZIP_MAGIC,
    Limits,
    Package,
    is_odf,
    odf_encrypted,
    ole_kind,
)

log = logging.getLogger(__name__)

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
TIMEOUT = 120.0  # seconds for one conversion
START_TIMEOUT = 60.0  # seconds for LibreOffice to start and answer
SOFFICE_VARIABLE = "AUDITDOCS_SOFFICE"
_HELPER = Path(__file__).with_name("uno_convert.py")
_POSIX = os.name == "posix"


def legacy_kind(data: bytes, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """'doc' or 'odt' for files we can convert, else None (encrypted files are refused)."""
    if data.startswith(OLE_MAGIC):
        kind = ole_kind(data)
        if kind == "encrypted":
            raise RejectedFile("password-protected or encrypted; remove the password and send it again")
        if kind == "encrypted-doc":
            raise RejectedFile(
                "a password-protected (encrypted) Word .doc file; remove the password, save it as .docx "
                "and send it again"
            )
        return "doc" if kind == "doc" else None
    if data.startswith(ZIP_MAGIC) and data[30:38] == b"mimetype" and ODT_MIMETYPE in data[38:120]:
        pkg = Package(data, limits)
        if not is_odf(pkg):
            return None
        if odf_encrypted(pkg):
            raise RejectedFile("a password-protected OpenDocument file; remove the password and send it again")
        pkg.verify()  # damaged parts and DTDs are refused here, not handed to LibreOffice
        return "odt"
    return None


# --- finding LibreOffice ------------------------------------------------------------------


def _installed_places() -> list[Path]:
    """Where LibreOffice's installers put soffice on Windows and macOS (Linux: on PATH)."""
    if sys.platform == "win32":
        roots = [os.environ.get(v) for v in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)")]
        roots += [r"C:\Program Files", r"C:\Program Files (x86)"]
        return [Path(r) / "LibreOffice" / "program" / "soffice.exe" for r in dict.fromkeys(r for r in roots if r)]
    if sys.platform == "darwin":
        app = Path("LibreOffice.app") / "Contents" / "MacOS" / "soffice"
        return [Path("/Applications") / app, Path.home() / "Applications" / app]
    return []


def find_soffice() -> str | None:
    """LibreOffice's soffice: the file ``AUDITDOCS_SOFFICE`` names, else where it installs
    on Windows and macOS, else ``soffice`` on PATH; None when there is none."""
    named = os.environ.get(SOFFICE_VARIABLE, "").strip()
    if named:
        if not Path(named).is_file():
            raise RejectedFile(
                f"{SOFFICE_VARIABLE} is set to {named}, which is not a file; set it to LibreOffice's soffice "
                "program (on Windows C:\\Program Files\\LibreOffice\\program\\soffice.exe) or unset it"
            )
        return named
    for place in _installed_places():
        if place.is_file():
            return str(place)
    return shutil.which("soffice")


def _not_installed(kind: str) -> RejectedFile:
    return RejectedFile(
        f"a .{kind} file; LibreOffice is needed to convert it but is not installed "
        f"(ask the auditor to save it as .docx, or set {SOFFICE_VARIABLE} to LibreOffice's soffice program)"
    )


def _helper_env(python: str) -> dict[str, str]:
    """The environment for a Python other than ours: without our PYTHONHOME and PYTHONPATH."""
    if python == sys.executable:
        return dict(os.environ)
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}


_UNO_PYTHONS: dict[str, str | None] = {}


def uno_python(soffice: str) -> str | None:
    """A Python that can import LibreOffice's UNO bridge: LibreOffice's own (Windows, macOS,
    Linux builds from libreoffice.org), ours, or the system's (Linux python3-uno); found
    once per process."""
    if soffice in _UNO_PYTHONS:
        return _UNO_PYTHONS[soffice]
    program = Path(soffice).resolve().parent
    places = [
        program / "python.exe",
        program / "python",
        program.parent / "Resources" / "python",  # macOS: Contents/MacOS/soffice, Contents/Resources/python
        Path(sys.executable),
    ]
    if sys.platform.startswith("linux"):
        places.append(Path("/usr/bin/python3"))  # Debian's and Fedora's python3-uno
    found = None
    for place in dict.fromkeys(places):
        if not place.is_file():
            continue
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            probe = subprocess.run(
                [str(place), "-c", "import uno"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=_helper_env(str(place)),
                timeout=30,
                check=False,
            )
            if probe.returncode == 0:
                found = str(place)
                break
    if found is None:
        log.warning(
            "no Python with LibreOffice's UNO bridge found (on Linux: install python3-uno): "
            "each .doc or .odt starts its own LibreOffice, about 1 s per file"
        )
    _UNO_PYTHONS[soffice] = found
    return found


# --- processes ------------------------------------------------------------------------------


def _own_group() -> dict[str, Any]:
    """Popen options putting a process in a group of its own: Ctrl+C in the terminal does
    not reach it (auditdocs stops it itself), and on POSIX its whole group can be killed."""
    if _POSIX:
        return {"start_new_session": True}
    return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}


def kill_tree(proc: subprocess.Popen[Any]) -> None:
    """Kill a process and every process it started, children first (soffice is a launcher:
    the converter is its child), and reap it.  Portable (psutil); on POSIX its process group
    too, which also holds anything that left the tree."""
    import psutil  # only when something is to be killed (13 ms to import)

    family: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        parent = psutil.Process(proc.pid)  # not yet reaped, so the pid is still its own
        with contextlib.suppress(psutil.Error):
            parent.suspend()  # starts nothing more while its children go
        family = parent.children(recursive=True)
    for child in family:
        with contextlib.suppress(psutil.Error):
            child.kill()
    if _POSIX:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()
    proc.wait()
    psutil.wait_procs(family, timeout=5)


# --- one file, one LibreOffice --------------------------------------------------------------


def to_docx(data: bytes, kind: str, timeout: float = TIMEOUT) -> bytes:
    """Convert one file with a LibreOffice of its own (about 1 s); see ``Converter``."""
    soffice = find_soffice()
    if soffice is None:
        raise _not_installed(kind)
    with tempfile.TemporaryDirectory(prefix="auditdocs-convert-") as tmp:
        folder = Path(tmp)
        source = folder / f"return.{kind}"
        source.write_bytes(data)
        command = [
            soffice,
            f"-env:UserInstallation={_profile_url(folder)}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(folder / "out"),
            str(source),
        ]
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_office_env(folder),
            **_own_group(),
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc)
            _remove_pipes(_instance_pipe(_profile_url(folder)))
            raise _too_long(kind, timeout) from None
        except BaseException:
            kill_tree(proc)
            _remove_pipes(_instance_pipe(_profile_url(folder)))
            raise
        result = folder / "out" / "return.docx"
        if code != 0 or not result.exists():
            raise _failed(kind)
        return result.read_bytes()


def _profile_url(folder: Path) -> str:
    return (folder / "profile").as_uri()


def _instance_pipe(profile_url: str) -> str:
    """The pipe by which LibreOffice finds a running instance of the same profile: named by
    the MD5 of the profile's URL in UTF-16, in hex without leading zeros (measured, 7.4)."""
    digest = hashlib.md5(profile_url.encode("utf-16-le"), usedforsecurity=False).digest()
    return "SingleOfficeIPC_" + "".join(format(byte, "x") for byte in digest)


def _remove_pipes(*names: str) -> None:
    """On POSIX, a LibreOffice pipe is a socket file in /tmp (whatever TMPDIR says), left
    there when LibreOffice is killed; on Windows it goes with the process."""
    if not _POSIX:
        return
    for name in names:
        for place in ("/tmp", "/var/tmp"):  # noqa: S108 - LibreOffice's own fixed places
            with contextlib.suppress(OSError):
                Path(place, f"OSL_PIPE_{os.getuid()}_{name}").unlink(missing_ok=True)


def _office_env(folder: Path) -> dict[str, str]:
    """LibreOffice's temporary files go in our folder, removed with it."""
    tmp = folder / "tmp"
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp), "TMP": str(tmp), "TEMP": str(tmp)}


def _too_long(kind: str, timeout: float) -> RejectedFile:
    return RejectedFile(
        f"converting the .{kind} file took longer than {timeout:g} s; ask the auditor to save it as .docx"
    )


def _failed(kind: str) -> RejectedFile:
    return RejectedFile(
        f"LibreOffice could not convert the .{kind} file (corrupt?); ask the auditor to save it as .docx"
    )


# --- one LibreOffice for a batch ------------------------------------------------------------


@dataclass
class _Office:
    """A running LibreOffice listener, the helper driving it, and their folder."""

    office: subprocess.Popen[bytes]
    helper: subprocess.Popen[str]
    folder: Path
    pipe: str

    @property
    def profile(self) -> str:
        return _profile_url(self.folder)

    replies: queue.Queue[str | None] = field(default_factory=queue.Queue)
    reader: threading.Thread | None = None

    def ask(self, job: dict[str, str], timeout: float) -> dict[str, Any] | None:
        """Send a job, wait for its answer; None if the helper ended, raises queue.Empty on timeout."""
        stdin = self.helper.stdin
        if stdin is None:
            return None
        try:
            stdin.write(json.dumps(job) + "\n")
            stdin.flush()
        except OSError:
            return None
        return self.answer(timeout)

    def answer(self, timeout: float) -> dict[str, Any] | None:
        line = self.replies.get(timeout=timeout)
        if not line:
            return None
        try:
            answer = json.loads(line)
        except ValueError:
            return {"ok": False, "error": "an unreadable answer"}
        return answer if isinstance(answer, dict) else {"ok": False, "error": "an unreadable answer"}

    def close(self, grace: float = 0.0) -> None:
        """Stop both processes (asking LibreOffice to quit first when given ``grace``
        seconds) and remove the folder (profile, temporary files, files converted)."""
        with contextlib.suppress(OSError):
            if self.helper.stdin:
                self.helper.stdin.close()  # the helper then asks LibreOffice to quit
        if grace:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.office.wait(grace)
        kill_tree(self.helper)
        kill_tree(self.office)
        if self.reader is not None:
            self.reader.join(5)  # it closes the helper's stdout at its end
        _remove_pipes(self.pipe, _instance_pipe(self.profile))
        for _ in range(20):  # Windows: files may stay locked a moment after their process
            shutil.rmtree(self.folder, ignore_errors=True)
            if not self.folder.exists():
                break
            threading.Event().wait(0.1)


def _pump(stream: IO[str], replies: queue.Queue[str | None]) -> None:
    """Each line the helper says, then None when it has stopped."""
    with contextlib.suppress(OSError, ValueError), stream:
        for line in stream:
            replies.put(line)
    replies.put(None)


class Converter:
    """Converts the legacy files of a batch with one LibreOffice, started on the first and
    restarted after a file it hung or died on; ``starts`` counts its starts.  Use it as a
    context manager, or call ``close()``: nothing is left running or on disk after."""

    def __init__(self, timeout: float = TIMEOUT, start_timeout: float = START_TIMEOUT) -> None:
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.starts = 0
        self._running: _Office | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._count = 0

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def convert(self, data: bytes, kind: str, timeout: float | None = None) -> bytes:
        """The .docx LibreOffice makes of ``data`` (a .doc or .odt that ``legacy_kind``
        passed); RejectedFile if it cannot, or takes longer than ``timeout`` seconds."""
        timeout = self.timeout if timeout is None else timeout
        soffice = find_soffice()
        if soffice is None:
            raise _not_installed(kind)
        if self._running is not None and self._running.office.poll() is not None:
            self._stop()  # LibreOffice went away since the last file (killed?): start it again
        running = self._running or self._start(soffice, kind)
        if running is None:  # no Python with UNO: a LibreOffice run of its own
            return to_docx(data, kind, timeout)
        self._count += 1
        source = running.folder / "files" / f"{self._count}.{kind}"
        target = source.with_suffix(".docx")
        source.write_bytes(data)
        try:
            answer = running.ask({"in": str(source), "out": str(target), "kind": kind}, timeout)
        except queue.Empty:
            self._stop()
            raise _too_long(kind, timeout) from None
        except BaseException:  # KeyboardInterrupt mid-conversion: nothing left running
            self._stop()
            raise
        finally:
            source.unlink(missing_ok=True)
        if answer is None:
            self._stop()
            raise RejectedFile(
                f"LibreOffice stopped while converting the .{kind} file (it crashed on it?); "
                "ask the auditor to save it as .docx"
            )
        if not answer.get("ok") or not target.is_file():
            log.info("LibreOffice could not convert a .%s file: %s", kind, answer.get("error"))
            raise _failed(kind)
        try:
            return target.read_bytes()
        finally:
            target.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop LibreOffice (if started) and remove its folder; the converter may be used
        again afterwards (it starts anew)."""
        if self._running is not None:
            self._running.close(grace=2.0)
        self._running = None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None

    def _stop(self) -> None:
        if self._running is not None:
            self._running.close()
        self._running = None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None

    def _start(self, soffice: str, kind: str) -> _Office | None:
        if _UNO_PYTHONS.get(soffice, "") is None:
            return None
        folder = Path(tempfile.mkdtemp(prefix="auditdocs-libreoffice-"))
        (folder / "files").mkdir()
        pipe = f"auditdocs-{uuid.uuid4().hex}"
        office = subprocess.Popen(
            [
                soffice,
                f"-env:UserInstallation={_profile_url(folder)}",
                "--headless",
                "--invisible",
                "--nologo",
                "--norestore",
                "--nodefault",
                "--nolockcheck",
                f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_office_env(folder),
            **_own_group(),
        )
        try:
            python = uno_python(soffice)  # found while LibreOffice starts (the first time)
            if python is None:
                kill_tree(office)
                shutil.rmtree(folder, ignore_errors=True)
                _remove_pipes(pipe, _instance_pipe(_profile_url(folder)))
                return None
            helper = subprocess.Popen(
                [python, str(_HELPER), pipe, str(self.start_timeout), str(folder)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                env=_helper_env(python),
                **_own_group(),
            )
        except BaseException:
            kill_tree(office)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        running = _Office(office, helper, folder, pipe)
        stdout = cast(IO[str], helper.stdout)  # a pipe: asked for above
        running.reader = threading.Thread(target=_pump, args=(stdout, running.replies), daemon=True)
        running.reader.start()
        # Whatever happens to this converter, its processes and folder go with it (an
        # owner that dies instead closes the helper's stdin: LibreOffice is asked to quit).
        self._running = running
        self._finalizer = weakref.finalize(self, running.close)
        self.starts += 1
        try:
            ready = running.answer(self.start_timeout + 5)
        except queue.Empty:
            ready = None
        except BaseException:
            self._stop()
            raise
        if not ready or not ready.get("ready"):
            self._stop()
            raise RejectedFile(
                f"a .{kind} file; LibreOffice did not start to convert it (within {self.start_timeout:g} s); "
                "ingest it again, or ask the auditor to save it as .docx"
            )
        return running
