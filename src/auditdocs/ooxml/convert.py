"""Legacy returns (.doc, .odt) converted to .docx with headless LibreOffice.

After conversion the fields are plain text or legacy form fields; the parser reads
them from their table cells and says so.  A private LibreOffice profile is used per
call so that parallel conversions do not lock each other out.

LibreOffice is a large parser of its own, so a file is checked before it gets there:
an encrypted .doc or .odt is refused (LibreOffice cannot open it without a password),
and an OpenDocument package is opened with the same limits as a .docx, its parts
checked (no DTDs: an external entity must never be resolved by anyone).  A conversion
that runs too long is killed with every process it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

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

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
TIMEOUT = 120.0  # seconds for one conversion


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


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """soffice is a launcher: the converter is its child, so kill the whole group."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.wait()


def to_docx(data: bytes, kind: str, timeout: float = TIMEOUT) -> bytes:
    soffice = shutil.which("soffice")
    if soffice is None:
        raise RejectedFile(
            f"a .{kind} file; LibreOffice is needed to convert it but is not installed "
            "(ask the auditor to save it as .docx)"
        )
    with tempfile.TemporaryDirectory(prefix="auditdocs-convert-") as tmp:
        folder = Path(tmp)
        source = folder / f"return.{kind}"
        source.write_bytes(data)
        command = [
            soffice,
            f"-env:UserInstallation=file://{folder / 'profile'}",
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
            start_new_session=True,  # its own process group, so a timeout kills all of it
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise RejectedFile(
                f"converting the .{kind} file took longer than {timeout:.0f} s; ask the auditor to save it as .docx"
            ) from None
        except BaseException:
            _kill_group(proc)
            raise
        result = folder / "out" / "return.docx"
        if code != 0 or not result.exists():
            raise RejectedFile(
                f"LibreOffice could not convert the .{kind} file (corrupt?); ask the auditor to save it as .docx"
            )
        return result.read_bytes()
