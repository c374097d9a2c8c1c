"""Read an OOXML package safely: zipfile + hardened lxml, cheap checks first.

Nothing here trusts the file: magic bytes are checked before unzipping, entry counts
and sizes before reading, any DOCTYPE is refused (Word never writes one), entities
are never resolved and the parser never loads a DTD or touches the network.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from lxml import etree

from auditdocs.errors import RejectedFile
from auditdocs.ooxml import namespaces as ns

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Limits:
    """Safe defaults for untrusted packages; raise them only for files you trust."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_entries: int = 1000
    max_part_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 256 * 1024 * 1024
    max_ratio: int = 100  # uncompressed / compressed, for parts above 1 MB


DEFAULT_LIMITS = Limits()


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


def parse_xml(data: bytes, name: str) -> etree._Element:
    """Parse one XML part; refuse DTDs outright (entity expansion, external entities)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lower()
    if b"<!doctype" in head or b"<!entity" in head:
        raise RejectedFile(f"part {name} declares a DTD, which Word never writes; refusing it")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise RejectedFile(f"corrupt file: part {name} is not well-formed XML ({exc.msg})") from None
    if root is None:
        raise RejectedFile(f"corrupt file: part {name} is empty")
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


class Package:
    """An opened OOXML package with bounded reads of its parts."""

    def __init__(self, data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise RejectedFile(f"corrupt file: not a readable zip package ({exc})") from None
        if len(infos) > limits.max_entries:
            raise RejectedFile(f"package has {len(infos)} parts (limit {limits.max_entries}); not an audit form")
        total = 0
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            total += info.file_size
            if info.file_size > limits.max_part_bytes or (
                info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(info.compress_size, 1)
            ):
                raise RejectedFile(
                    f"part {info.filename} would expand to {info.file_size} bytes (a zip bomb?); refusing it"
                )
            # Part names are case-insensitive in OPC; the first of duplicates wins.
            self.infos.setdefault(info.filename.lower(), info)
        if total > limits.max_total_bytes:
            raise RejectedFile(f"package would expand to {total} bytes (a zip bomb?); refusing it")
        self._xml: dict[str, etree._Element] = {}

    def has(self, name: str) -> bool:
        return name.lstrip("/").lower() in self.infos

    def read(self, name: str) -> bytes:
        info = self.infos.get(name.lstrip("/").lower())
        if info is None:
            raise RejectedFile(f"corrupt file: part {name} is missing")
        if info.flag_bits & 0x1:
            raise RejectedFile("the package is encrypted; save it without a password and send it again")
        limit = self.limits.max_part_bytes
        try:
            with self.zip.open(info) as fh:
                data = fh.read(limit + 1)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
            raise RejectedFile(f"corrupt file: cannot read part {name} ({exc})") from None
        if len(data) > limit:
            raise RejectedFile(f"part {name} is larger than it claims (a zip bomb?); refusing it")
        return data

    def xml(self, name: str) -> etree._Element:
        """A part parsed once (later calls share the tree: do not modify it)."""
        key = name.lstrip("/").lower()
        if key not in self._xml:
            self._xml[key] = parse_xml(self.read(name), name)
        return self._xml[key]

    def relationships(self, source: str) -> list[tuple[str, str, str]]:
        """(id, type, absolute target part name) for the part ``source`` ('' = package)."""
        folder, base = posixpath.split(source.lstrip("/"))
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if not self.has(rels_name):
            return []
        out = []
        for rel in self.xml(rels_name).iter(f"{{{ns.PKG_REL}}}Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            absolute = target.startswith("/")
            name = target.lstrip("/") if absolute else posixpath.normpath(posixpath.join(folder, target))
            out.append((rel.get("Id", ""), rel.get("Type", ""), str(PurePosixPath(name))))
        return out

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
