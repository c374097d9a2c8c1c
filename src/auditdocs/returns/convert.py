"""Legacy returns (.doc, .odt) converted to .docx with headless LibreOffice.

After conversion the fields are plain text or legacy form fields; the parser reads
them from their table cells and says so.  A private LibreOffice profile is used per
call so that parallel conversions do not lock each other out.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from auditdocs.errors import RejectedFile
from auditdocs.ooxml.package import OLE_MAGIC, ZIP_MAGIC

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


def legacy_kind(data: bytes) -> str | None:
    """'doc' or 'odt' for files we can convert, else None (encrypted files are refused)."""
    if data.startswith(OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise RejectedFile("password-protected or encrypted; remove the password and send it again")
        return "doc" if "WordDocument".encode("utf-16-le") in data else None
    if data.startswith(ZIP_MAGIC) and data[30:38] == b"mimetype" and ODT_MIMETYPE in data[38:120]:
        if b"manifest:encryption-data" in data or b"encryption-data" in data[:200000]:
            raise RejectedFile("a password-protected OpenDocument file; remove the password and send it again")
        return "odt"
    return None


def to_docx(data: bytes, kind: str, timeout: float = 180) -> bytes:
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
        try:
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation=file://{folder / 'profile'}",
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    "docx:MS Word 2007 XML",
                    "--outdir",
                    str(folder / "out"),
                    str(source),
                ],
                check=True,
                capture_output=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise RejectedFile(
                f"converting the .{kind} file took longer than {timeout:.0f} s; ask the auditor to save it as .docx"
            ) from None
        except subprocess.CalledProcessError:
            raise RejectedFile(
                f"LibreOffice could not convert the .{kind} file (corrupt?); ask the auditor to save it as .docx"
            ) from None
        result = folder / "out" / "return.docx"
        if not result.exists():
            raise RejectedFile(
                f"LibreOffice could not convert the .{kind} file (corrupt?); ask the auditor to save it as .docx"
            )
        return result.read_bytes()
