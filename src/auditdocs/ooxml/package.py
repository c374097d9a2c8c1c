"""Read an OOXML package safely: zipfile + hardened lxml, cheap checks first.

Nothing here trusts the file: magic bytes are checked before unzipping, the zip's
directory size and entry count before zipfile reads it, every part's size and
compression ratio before reading it, and every read is bounded.  Any DOCTYPE is
refused (Word never writes one), entities are never resolved, the parser never
loads a DTD or touches the network, and a part with more nodes than a form could
have is refused before lxml builds a tree of it.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, TYPE_CHECKING

from lxml import etree

from auditdocs.errors import RejectedFile
from auditdocs.ooxml import namespaces as ns
from auditdocs.text import one_line

if TYPE_CHECKING:  # not imported to run: pydantic takes 0.2 s to import, and `parse` needs neither
    from auditdocs.config.models import LimitSettings
    from auditdocs.config.summary import LimitSummary

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Safe defaults for untrusted packages; raise them only for files you trust.

    An audit form is about 60 KB zipped, 1 MB unzipped, with some 10,000 XML tags in
    its main part; these leave room for pasted pictures and long evidence while keeping
    a hostile file's cost to a second and a couple of hundred MB at worst.
    """

    max_file_bytes: int = 50 * MB
    max_entries: int = 1000
    max_part_bytes: int = 16 * MB
    max_total_bytes: int = 256 * MB
    max_ratio: int = 100  # uncompressed / compressed, for parts above 1 MB
    # Tags (start and end) and attributes in one XML part, counted before parsing: the
    # largest tree allowed takes lxml about 55 MB.
    max_xml_nodes: int = 300_000
    # XML parts kept in memory once verified, so the reader need not inflate them again (a
    # form's come to about 1 MB); beyond this, and pictures always, are verified and let go.
    max_cached_bytes: int = 16 * MB

    @classmethod
    def configured(cls, settings: LimitSettings | LimitSummary) -> Limits:
        """The defaults with the sizes a QA officer set (config/organisation.yaml ``limits``);
        the limits that only stop hostile files (ratios, XML nodes) keep their defaults."""
        return cls(max_file_bytes=settings.max_file_mb * MB, max_total_bytes=settings.max_form_unzipped_mb * MB)


DEFAULT_LIMITS = Limits()
#: Where a QA officer raises the limits genuine files can meet (config.models.LimitSettings).
SETTINGS = "config/organisation.yaml limits."


def size_text(size: int) -> str:
    """A size for a message: bytes under 1 MB, else MB (one decimal under 10 MB)."""
    if size < MB:
        return f"{size:,} bytes"
    return f"{size / MB:,.0f} MB" if size >= 10 * MB else f"{size / MB:,.1f} MB"


def too_big(size: int, limit: int, advice: str) -> str:
    """Why a file over the configured size limit is refused, and what to do."""
    return f"{size_text(size)}, over the {size_text(limit)} limit ({SETTINGS}max_file_mb); {advice}"

# What zipfile and its decompressors raise on malformed input.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    ValueError,
    OSError,
    EOFError,
    struct.error,
    OverflowError,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
)


def xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


_PARSER = xml_parser()
_DTD_MARKS = (b"<!doctype", b"<!entity")


def _as_utf8(head: bytes) -> bytes:
    """The start of an XML document in UTF-8, whether it was written in UTF-8 or UTF-16."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 1 and 0 in head[:2]):
        codec = "utf-16-be" if head.startswith(b"\xfe\xff") or head[:1] == b"\x00" else "utf-16-le"
        return head.decode(codec, errors="ignore").encode("utf-8", errors="ignore")
    return head


def declares_dtd(head: bytes) -> bool:
    """True if the start of an XML document declares a DTD (in UTF-8 or UTF-16)."""
    lowered = _as_utf8(head).lower()
    return any(mark in lowered for mark in _DTD_MARKS)


_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([^"']*)["']""")
_OFFICE_ENCODINGS = {b"utf-8", b"utf8", b"utf-16", b"utf-16le", b"utf-16be"}


def foreign_encoding(head: bytes) -> str | None:
    """The encoding an XML document declares or starts in when it is neither UTF-8 nor
    UTF-16 (Office writes only those), else None.  In another encoding (UTF-7, EBCDIC...)
    the ``<`` and ``=`` the node count and the DTD check look for need not appear at all."""
    text = _as_utf8(head).removeprefix(b"\xef\xbb\xbf").lstrip()
    if text and not text.startswith(b"<"):
        return "an unknown encoding"
    match = _DECLARED_ENCODING.match(text)
    if match and match.group(1).strip().lower() not in _OFFICE_ENCODINGS:
        return one_line(match.group(1).decode("ascii", errors="replace"))[:40]
    return None


def _dtd_refused(name: str) -> RejectedFile:
    return RejectedFile(f"part {name} declares a DTD, which Word and LibreOffice never write; refusing it")


def parse_xml(data: bytes, name: str, max_nodes: int = DEFAULT_LIMITS.max_xml_nodes) -> etree._Element:
    """Parse one XML part; refuse DTDs outright (entity expansion, external entities)
    and parts too big a tree to build (every element or attribute has a ``<`` or ``=``)."""
    encoding = foreign_encoding(data[:4096])
    if encoding is not None:
        raise RejectedFile(
            f"part {name} is written in {encoding}, not UTF-8 or UTF-16 as Word and LibreOffice write; refusing it"
        )
    if declares_dtd(data[:4096]):
        raise _dtd_refused(name)
    # Each node costs at least one byte, so a part no longer than the limit needs no count.
    if len(data) > max_nodes and data.count(b"<") + data.count(b"=") > max_nodes:
        raise RejectedFile(f"part {name} has over {max_nodes:,} XML tags and attributes, far more than a form has")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        if "excessive depth" in str(exc.msg).lower():  # libxml2's limit without huge_tree
            raise RejectedFile(f"corrupt file: part {name} nests elements deeper than any Word file") from None
        raise RejectedFile(f"corrupt file: part {name} is not well-formed XML ({one_line(exc.msg)})") from None
    if root is None:
        raise RejectedFile(f"corrupt file: part {name} is empty")
    info = root.getroottree().docinfo
    if info.internalDTD is not None or info.externalDTD is not None or info.doctype:
        raise _dtd_refused(name)  # declared after a long comment, say, past the head check
    return root


def sniff(head: bytes) -> str:
    """What the first bytes say the file is: zip, ole, pdf, empty or unknown."""
    if not head:
        return "empty"
    if head.startswith(ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(PDF_MAGIC):
        return "pdf"
    return "unknown"


def zip_directory(data: bytes) -> tuple[int, int] | None:
    """(entries, central directory bytes) that a zip's end record declares, or None if
    it has none.  Read before zipfile, which builds an object per directory entry and
    trusts the directory size rather than the entry count."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or end + 22 > len(data):
        return None
    entries, size, offset = struct.unpack_from("<HII", data, end + 10)
    if entries == 0xFFFF or size == 0xFFFFFFFF or offset == 0xFFFFFFFF:  # zip64: its own end record
        locator = end - 20
        if locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
            (where,) = struct.unpack_from("<Q", data, locator + 8)
            if where + 56 <= len(data) and data[where : where + 4] == b"PK\x06\x06":
                big_entries, big_size = struct.unpack_from("<QQ", data, where + 32)
                return int(big_entries), int(big_size)
    return entries, size


def check_ole_header(data: bytes) -> str | None:
    """Why an OLE (Compound File) container cannot be opened safely, or None.

    olefile joins its sector table piece by piece, which takes minutes for a small file
    claiming a huge table: a table far larger than the file needs is refused here."""
    if len(data) < 512 or not data.startswith(OLE_MAGIC):
        return "not a complete OLE file"
    (shift,) = struct.unpack_from("<H", data, 0x1E)
    if shift not in (9, 12):
        return "its sector size is not one Office uses"
    size = 1 << shift
    (fat_sectors,) = struct.unpack_from("<I", data, 0x2C)
    (difat_sectors,) = struct.unpack_from("<I", data, 0x48)
    sectors = max(len(data) - size, 0) // size + 1
    per_sector = size // 4
    needed = -(-sectors // per_sector)
    if fat_sectors > 2 * needed + 2 or difat_sectors > fat_sectors // (per_sector - 1) + 2:
        return "its sector table is far larger than the file"
    return None


def ole_kind(data: bytes) -> str:
    """What an OLE container holds: 'encrypted' (a password-protected .docx, which Word
    saves as OLE), 'encrypted-doc', 'doc' (binary Word 97-2003, 6 or 95), 'other' (an
    .xls, .msg, ...) or 'corrupt'."""
    import olefile  # only for OLE files

    if check_ole_header(data) is not None:
        return _ole_guess(data)
    try:
        # A file object, never bytes: olefile treats short bytes as a file name to open.
        with olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT) as ole:
            streams = {"/".join(path).lower() for path in ole.listdir(streams=True, storages=False)}
            if {"encryptioninfo", "encryptedpackage"} <= streams:
                return "encrypted"
            if "worddocument" not in streams:
                return "other"
            entry = ole.direntries[ole._find("WordDocument")]
            if entry.size < 12:
                return "corrupt"
            if entry.size >= ole.minisectorcutoff:
                fib = ole.getsect(entry.isectStart)[:12]  # one sector, never the whole stream
            elif ole.root.size <= len(data):
                fib = ole.openstream("WordDocument").read(12)
            else:
                return "corrupt"
    except Exception:  # olefile raises many exception types on malformed input
        return _ole_guess(data)
    if len(fib) < 12:
        return "corrupt"
    (flags,) = struct.unpack_from("<H", fib, 0x0A)
    return "encrypted-doc" if flags & 0x0100 else "doc"  # FIB fEncrypted


def _ole_guess(data: bytes) -> str:
    """A damaged OLE file's kind, from the stream names in its directory (UTF-16)."""
    if "EncryptionInfo".encode("utf-16-le") in data:
        return "encrypted"
    if "WordDocument".encode("utf-16-le") in data:
        return "doc"
    return "corrupt"


#: A directory entry is 46 bytes plus its name and extra field: 1 KB each is generous.
DIRECTORY_BYTES_PER_ENTRY = 1024


def check_zip_directory(data: bytes, max_entries: int) -> str | None:
    """Why a zip's directory is too big to read (a reason for the user), or None."""
    found = zip_directory(data)
    if found is None:
        return None  # zipfile reports the missing end record
    entries, size = found
    if entries > max_entries or size > max_entries * DIRECTORY_BYTES_PER_ENTRY:
        return f"has {entries:,} parts in a {size:,}-byte directory (limit {max_entries:,} parts)"
    return None


def bad_part_name(name: str) -> bool:
    """A zip entry name no Word package can have: absolute, '..', backslashes, a drive
    or control characters (a path-traversal attempt, or a corrupt directory)."""
    return (
        name.startswith("/")
        or "\\" in name
        or any(part in ("..", ".") for part in name.split("/"))
        or (len(name) > 1 and name[1] == ":")
        or any(ord(ch) < 32 for ch in name)
    )


class Package:
    """An opened OOXML package with bounded reads of its parts."""

    def __init__(self, data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        too_big = check_zip_directory(data, limits.max_entries)
        if too_big is not None:
            raise RejectedFile(f"the package {too_big}; not an audit form")
        self._data = data
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except ZIP_ERRORS as exc:
            raise RejectedFile(f"corrupt file: not a readable zip package ({one_line(exc)})") from None
        if len(infos) > limits.max_entries:
            raise RejectedFile(f"package has {len(infos)} parts (limit {limits.max_entries}); not an audit form")
        total = 0
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if bad_part_name(info.filename):
                raise RejectedFile(
                    f"corrupt file: the package has a part named {one_line(repr(info.filename))}, "
                    "which no Word file has; refusing it"
                )
            if info.filename.endswith("/"):
                continue  # a folder entry (LibreOffice writes them): no data
            total += info.file_size
            if info.file_size > limits.max_part_bytes or (
                info.file_size > MB and info.file_size > limits.max_ratio * max(info.compress_size, 1)
            ):
                raise RejectedFile(
                    f"part {info.filename} would expand to {info.file_size} bytes (a zip bomb?); refusing it"
                )
            # Part names are case-insensitive in OPC: two entries whose names differ only in
            # case, or repeat, would be read one way here and another by Word or LibreOffice.
            if info.filename.lower() in self.infos:
                raise RejectedFile(
                    f"corrupt file: the package has two parts named {one_line(repr(info.filename))} "
                    "(or differing only in case), which no Word file has; refusing it"
                )
            self.infos[info.filename.lower()] = info
        if total > limits.max_total_bytes:
            raise RejectedFile(f"package would expand to {total} bytes (a zip bomb?); refusing it")
        self._xml: dict[str, etree._Element] = {}
        self._raw: dict[str, bytes] = {}  # parts already read whole by verify()

    def has(self, name: str) -> bool:
        return name.lstrip("/").lower() in self.infos

    def _open(self, name: str) -> IO[bytes]:
        info = self.infos.get(name.lstrip("/").lower())
        if info is None:
            raise RejectedFile(f"corrupt file: part {name} is missing")
        if info.flag_bits & 0x1:
            raise RejectedFile("the package is encrypted; save it without a password and send it again")
        try:
            return self.zip.open(info)
        except ZIP_ERRORS as exc:
            raise RejectedFile(f"corrupt file: cannot read part {name} ({one_line(exc)})") from None

    def read(self, name: str) -> bytes:
        cached = self._raw.get(name.lstrip("/").lower())
        if cached is not None:
            return cached
        limit = self.limits.max_part_bytes
        try:
            with self._open(name) as fh:
                data = fh.read(limit + 1)
        except ZIP_ERRORS as exc:
            raise RejectedFile(f"corrupt file: cannot read part {name} ({one_line(exc)})") from None
        if len(data) > limit:
            raise RejectedFile(f"part {name} is larger than it claims (a zip bomb?); refusing it")
        return data

    def verify(self) -> None:
        """Read every part once, in bounded chunks: a damaged part (bad checksum, bad
        compressed data) or an XML part declaring a DTD is refused even where the form
        does not need that part, since Word would refuse the file too."""
        budget = self.limits.max_total_bytes
        cache = self.limits.max_cached_bytes  # what may be held before the identity is checked
        for info in list(self.infos.values()):
            name = info.filename
            xml = name.lower().endswith((".xml", ".rels"))
            if info.flag_bits & 0x1:
                raise RejectedFile("the package is encrypted; save it without a password and send it again")
            keep = xml and info.file_size <= min(cache, self.limits.max_part_bytes)
            data = self._direct(info) if keep else None
            if data is not None:
                if declares_dtd(data[:4096]):
                    raise _dtd_refused(name)
                self._raw[name.lower()] = data
                budget -= len(data)
                cache -= len(data)
                continue
            try:
                with self._open(name) as fh:
                    head = fh.read(4096)
                    if xml and declares_dtd(head):
                        raise _dtd_refused(name)
                    chunks, size = [head], len(head)
                    while chunk := fh.read(MB):
                        size += len(chunk)
                        if size > budget:
                            raise RejectedFile("the package expands to more than it claims (a zip bomb?); refusing it")
                        if keep:
                            chunks.append(chunk)
            except ZIP_ERRORS as exc:
                raise RejectedFile(f"corrupt file: part {name} is damaged ({one_line(exc)})") from None
            budget -= size
            if keep and size <= cache:
                self._raw[name.lower()] = b"".join(chunks)  # read() then needs no second inflate
                cache -= size

    def _direct(self, info: zipfile.ZipInfo) -> bytes | None:
        """A part inflated straight from the file's bytes, when its entry is a plain one
        (stored or deflated, local header agreeing with the directory) and its data comes
        out exactly as the directory says (size, CRC-32, end of stream).  None otherwise:
        the caller then reads it through zipfile, which says what is wrong.  zipfile's own
        path costs about 20 us per part more, a third of reading a whole form."""
        data, offset = self._data, info.header_offset
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or offset + 30 > len(data):
            return None
        magic, name_len, extra_len = data[offset : offset + 4], *struct.unpack_from("<HH", data, offset + 26)
        start = offset + 30 + name_len + extra_len
        end = start + info.compress_size
        if magic != ZIP_MAGIC or end > len(data):
            return None
        name = data[offset + 30 : offset + 30 + name_len]
        if name != info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", errors="replace"):
            return None
        compressed = memoryview(data)[start:end]
        if info.compress_type == zipfile.ZIP_STORED:
            out = bytes(compressed)
        else:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                out = inflater.decompress(compressed, info.file_size + 1)
            except zlib.error:
                return None
            if not inflater.eof:
                return None
        if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
            return None
        return out

    def xml(self, name: str) -> etree._Element:
        """A part parsed once (later calls share the tree: do not modify it)."""
        key = name.lstrip("/").lower()
        if key not in self._xml:
            self._xml[key] = parse_xml(self.read(name), name, self.limits.max_xml_nodes)
        return self._xml[key]

    def relationships(self, source: str) -> list[tuple[str, str, str]]:
        """(id, type, absolute target part name) for the part ``source`` ('' = package)."""
        name = rels_name(source)
        if not self.has(name):
            return []
        folder = rels_folder(name)
        return [
            (rel.get("Id", ""), rel.get("Type", ""), rel_target(folder, rel.get("Target", "")))
            for rel in self.xml(name).iter(f"{{{ns.PKG_REL}}}Relationship")
            if rel.get("TargetMode") != "External"
        ]

    def main_part(self) -> str:
        """The main document part, found through the package relationships."""
        if not self.has("_rels/.rels"):
            raise RejectedFile("corrupt file: no package relationships (_rels/.rels); not a Word document")
        for _id, rel_type, target in self.relationships(""):
            if rel_type == ns.REL_OFFICE_DOCUMENT_STRICT:
                raise RejectedFile("Strict OOXML is not supported; save it in Word as a normal .docx")
            if rel_type == ns.REL_OFFICE_DOCUMENT:
                if not self.has(target):
                    raise RejectedFile(f"corrupt file: main part {target} is missing")
                return target
        raise RejectedFile("not a Word document: the package has no main document part")

    def content_type(self, name: str) -> str | None:
        types = self.xml("[Content_Types].xml")
        wanted = "/" + name.lstrip("/").lower()
        for override in types.iter(f"{{{ns.CT}}}Override"):
            if override.get("PartName", "").lower() == wanted:
                return override.get("ContentType")
        ext = wanted.rsplit(".", 1)[-1]
        for default in types.iter(f"{{{ns.CT}}}Default"):
            if default.get("Extension", "").lower() == ext:
                return default.get("ContentType")
        return None


#: Parts that hold or bind macros (a .docm's VBA project, its data and signatures, key
#: bindings and toolbars that call macros), by content type and by relationship type.
MACRO_CONTENT_TYPES = frozenset(
    {
        "application/vnd.ms-office.vbaproject",
        "application/vnd.ms-word.vbadata+xml",
        "application/vnd.ms-office.vbaprojectsignature",
        "application/vnd.ms-office.vbaprojectsignatureagile",
        "application/vnd.ms-office.vbaprojectsignaturev3",
        "application/vnd.ms-word.keymapcustomizations+xml",
        "application/vnd.ms-word.attachedtoolbars",
    }
)
_MSO_REL = "http://schemas.microsoft.com/office/2006/relationships/"
MACRO_REL_TYPES = frozenset(
    _MSO_REL + t
    for t in (
        "vbaProject",
        "wordVbaData",
        "vbaProjectSignature",
        "vbaProjectSignatureAgile",
        "vbaProjectSignatureV3",
        "keyMapCustomizations",
        "attachedToolbars",
    )
)
_MACRO_NAMES = re.compile(r"(^|/)(vbaproject\.bin|vbadata\.xml|vbaprojectsignature\w*\.bin)$")


def macro_parts(pkg: Package) -> set[str]:
    """Lower-case names of the parts holding macros, with their own relationship parts."""
    found = {
        name
        for name in pkg.infos
        if _MACRO_NAMES.search(name) or (pkg.content_type(name) or "").lower() in MACRO_CONTENT_TYPES
    }
    return found | {rels_name(name).lower() for name in found if pkg.has(rels_name(name))}


def rels_name(part: str) -> str:
    """The relationship part of ``part`` ('' = the package): word/_rels/document.xml.rels."""
    folder, base = posixpath.split(part.lstrip("/"))
    return posixpath.join(folder, "_rels", base + ".rels")


def rels_folder(rels: str) -> str:
    """The folder relative targets of a relationship part start from."""
    return posixpath.dirname(posixpath.dirname(rels.lstrip("/")))


def rel_target(folder: str, target: str) -> str:
    """A relationship's target as a part name (no leading slash)."""
    if target.startswith("/"):
        return str(PurePosixPath(target.lstrip("/")))
    return str(PurePosixPath(posixpath.normpath(posixpath.join(folder, target))))


ODF_MIMETYPE = b"application/vnd.oasis.opendocument"
_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"


def is_odf(pkg: Package) -> bool:
    """An OpenDocument package (.odt, or one renamed .docx): its first part says so."""
    return pkg.has("mimetype") and pkg.read("mimetype").startswith(ODF_MIMETYPE)


def odf_encrypted(pkg: Package) -> bool:
    """True if an OpenDocument package's manifest lists encrypted parts (a password)."""
    if not pkg.has("META-INF/manifest.xml"):
        return False
    return pkg.xml("META-INF/manifest.xml").find(f".//{{{_MANIFEST}}}encryption-data") is not None
