"""Turn what the QA team receives (files, folders, .zip, .eml, .msg) into the files inside.

Returned forms arrive as loose files, folders, zip archives and e-mails saved from Outlook
or another mail program.  ``expand`` yields every file found, in memory, and never writes
anything.  Every container is untrusted: magic bytes, entry counts, declared sizes and
compression ratios are checked before anything is read, every read is bounded, and bad
input becomes an ``Unreadable`` with a one-line reason for the user, never an exception.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import io
import os
import re
import stat
import struct
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import olefile

from auditdocs.config.models import LimitSettings
from auditdocs.ooxml.package import (
    DIRECTORY_BYTES_PER_ENTRY,
    MB,
    OLE_MAGIC,
    SETTINGS,
    ZIP_ERRORS,
    ZIP_MAGIC,
    check_ole_header,
    size_text,
    too_big,
    zip_directory,
)
from auditdocs.text import one_line


@dataclass(frozen=True)
class SourceLimits:
    """Safe defaults for untrusted inputs; raise them only for sources you trust.

    ``max_members`` and ``max_total_bytes`` are one budget per input file, shared by every
    container nested inside it (so a zip of zips cannot multiply them); so are the budgets
    derived from ``max_members`` below, for the work of parsing e-mails and Outlook messages.
    """

    max_file_bytes: int = 50 * MB
    max_members: int = 2000
    max_total_bytes: int = 500 * MB
    max_ratio: int = 100  # uncompressed / compressed, for zip members above 1 MB
    max_depth: int = 3  # containers inside containers (a zip in a zip in an e-mail)
    # Everything unpacked from one input, as a multiple of the input's own size, once past
    # the floor (a small zip of forms).  Word files are compressed already: a zip of them
    # unpacks to about its size, an e-mail's attachments to less (base64).
    max_input_ratio: int = 20
    input_ratio_floor: int = 16 * MB
    # E-mail headers, checked before the email package parses them: its parser takes time
    # and memory growing with the square of the encoded words ("=?utf-8?q?...?=") or the
    # separators in one header (a 0.5 MB e-mail took 7 GB).  Real headers are a few KB; a
    # file name has a handful of encoded words and a few dozen separators.
    max_header_bytes: int = 64 * 1024  # one header, unfolded (a long To: list fits)
    max_encoded_words: int = 200  # in one header
    max_header_separators: int = 1024  # in one header the package parses field by field

    @classmethod
    def configured(cls, settings: LimitSettings) -> SourceLimits:
        """The defaults with the sizes and counts a QA officer set (``limits`` in config)."""
        return cls(
            max_file_bytes=settings.max_file_mb * MB,
            max_members=settings.max_files_per_input,
            max_total_bytes=settings.max_unpacked_mb * MB,
        )

    # What parsing a container's structure may cost, in proportion to the files one input
    # may hold: enough for an input of that many genuine e-mails or attachments, so that the
    # cost of a hostile one stays near that of the largest genuine one.

    @property
    def max_mime_parts(self) -> int:
        """MIME parts in the e-mails of one input: a genuine e-mail has two or three per
        attachment and a few of its own (the text, its HTML copy)."""
        return 8 * self.max_members + 100

    @property
    def max_header_lines(self) -> int:
        """Header lines in the e-mails of one input: some hundred an e-mail (Received:,
        DKIM and the like), a few an attachment."""
        return 128 * self.max_members + 4096

    @property
    def max_parsed_separators(self) -> int:
        """Separators in the headers parsed field by field (Content-Type and the like), in
        the e-mails of one input: a few dozen an attachment."""
        return 64 * self.max_members + 4096

    @property
    def max_msg_entries(self) -> int:
        """Directory entries (storages and streams) of one Outlook message: some ten an
        attachment.  olefile checks them in time growing with the square of their number."""
        return 8 * self.max_members + 1000

    @property
    def max_ole_entries(self) -> int:
        """Directory entries of all the Outlook messages of one input: some hundred a message."""
        return 128 * self.max_members + 1000


DEFAULT_LIMITS = SourceLimits()


@dataclass(frozen=True)
class Incoming:
    """One file to parse: where it was found and its bytes."""

    name: str  # display name: the path, or "batch.zip!forms/a.docx", "mail.eml!a.docx"
    data: bytes
    origin: str  # the top-level input path it came from
    # When the e-mail it came in was sent (the innermost e-mail's Date, or Outlook's
    # submit time), in UTC; None for a file that did not come in an e-mail.
    sent_at: datetime | None = None


@dataclass(frozen=True)
class Unreadable:
    """Something that could not be turned into files, with a one-line reason for the user."""

    name: str
    origin: str
    reason: str


Found = Incoming | Unreadable


@dataclass
class _Budget:
    """What is left to take out of one input's containers, and to spend parsing them."""

    members: int
    total: int
    unpacked: int  # under the input's own size times max_input_ratio
    mime_parts: int
    header_lines: int
    parsed_separators: int
    ole_entries: int

    @classmethod
    def of(cls, limits: SourceLimits, size: int) -> _Budget:
        """The budget of one input of ``size`` bytes."""
        return cls(
            members=limits.max_members,
            total=limits.max_total_bytes,
            unpacked=max(limits.input_ratio_floor, limits.max_input_ratio * size),
            mime_parts=limits.max_mime_parts,
            header_lines=limits.max_header_lines,
            parsed_separators=limits.max_parsed_separators,
            ole_entries=limits.max_ole_entries,
        )


@dataclass(frozen=True)
class _Ctx:
    origin: str
    limits: SourceLimits
    budget: _Budget


_KIND = {"zip": "zip archive", "eml": "e-mail", "msg": "Outlook message"}


def expand(paths: Iterable[Path], limits: SourceLimits = DEFAULT_LIMITS) -> Iterator[Found]:
    """Every file in ``paths``, with folders walked and archives and e-mails opened.

    Folders are walked in name order, skipping hidden entries, Office lock files (``~$…``)
    and links that lead out of the folder.  Containers are recognised by name and magic
    bytes together (a .docx is a zip too, and is yielded as it is).
    """
    for path in paths:
        path = Path(path)
        if _is_dir(path):
            yield from _expand_folder(path, limits)
        else:
            yield from _expand_file(path, _shown(path), limits, top_level=True)


# -- files and folders ----------------------------------------------------------------------


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _skipped(name: str) -> bool:
    """Hidden files, Office lock files and macOS resource forks are never forms."""
    return name.startswith((".", "~$")) or name == "__MACOSX"


def _expand_file(path: Path, origin: str, limits: SourceLimits, *, top_level: bool = False) -> Iterator[Found]:
    name = _shown(path)
    if top_level and path.name.startswith("~$"):
        yield Unreadable(name, origin, "an Office lock file (left while the document is open), not a form; skipped")
        return
    data = _read(path, limits)
    if isinstance(data, str):
        yield Unreadable(name, origin, data)
        return
    ctx = _Ctx(origin, limits, _Budget.of(limits, len(data)))
    yield from _dispatch(name, data, 0, ctx)


def _read(path: Path, limits: SourceLimits) -> bytes | str:
    """The file's bytes, or the reason they cannot be had.  A FIFO or device is never read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return "file not found"
    except PermissionError:
        return "permission denied; check you can open the file"
    except OSError as exc:
        return f"cannot be opened ({one_line(exc.strerror or exc)})"
    limit = limits.max_file_bytes
    try:
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                return "not a regular file; skipped"
            if info.st_size > limit:
                return too_big(info.st_size, limit, "check this is the right file")
            data = fh.read(limit + 1)  # the size may have changed since fstat
    except OSError as exc:
        return f"cannot be read ({one_line(exc.strerror or exc)})"
    if len(data) > limit:
        return too_big(len(data), limit, "check this is the right file")
    return data


def _expand_folder(folder: Path, limits: SourceLimits) -> Iterator[Found]:
    origin = _shown(folder)
    try:
        root = folder.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        yield Unreadable(origin, origin, f"folder cannot be read ({one_line(exc)})")
        return
    seen = {root}
    # Depth-first in name order, without recursion (deep trees cannot exhaust the stack).
    pending = [_list_folder(folder, root, seen, origin)]
    while pending:
        item = next(pending[-1], None)
        if item is None:
            pending.pop()
        elif isinstance(item, Unreadable):
            yield item
        elif item[1]:
            pending.append(_list_folder(item[0], root, seen, origin))
        else:
            yield from _expand_file(item[0], origin, limits)


def _list_folder(folder: Path, root: Path, seen: set[Path], origin: str) -> Iterator[tuple[Path, bool] | Unreadable]:
    """(path, is a folder) for the entries of one folder worth visiting, in name order.

    Links are followed only if they stay inside ``root``; each folder is visited once.
    """
    try:
        with os.scandir(folder) as it:
            names = sorted(entry.name for entry in it)
    except OSError as exc:
        yield Unreadable(_shown(folder), origin, f"folder cannot be read ({one_line(exc.strerror or exc)})")
        return
    for entry_name in names:
        if _skipped(entry_name):
            continue
        path = folder / entry_name
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            yield Unreadable(_shown(path), origin, "a broken link; skipped")
            continue
        if path.is_symlink() and not real.is_relative_to(root):
            yield Unreadable(
                _shown(path), origin, "a link to outside the folder; copy the file into the folder instead"
            )
            continue
        is_dir = _is_dir(path)
        if is_dir:
            if real in seen:  # a link back up the tree, or a second link to the same folder
                continue
            seen.add(real)
        yield path, is_dir


# -- dispatch ---------------------------------------------------------------------------------


def _dispatch(name: str, data: bytes, depth: int, ctx: _Ctx) -> Iterator[Found]:
    """Open ``data`` if it is a container (by name, or an e-mail by its headers), else yield it."""
    lower = name.lower()
    if lower.endswith(".zip"):
        kind = "zip"
    elif lower.endswith(".msg"):
        kind = "msg"
    elif lower.endswith(".eml") or _looks_like_email(data):
        kind = "eml"
    else:
        yield Incoming(name, data, ctx.origin)
        return
    if depth >= ctx.limits.max_depth:
        yield _too_deep(name, kind, ctx)
    elif kind == "zip":
        yield from _expand_zip(name, data, depth, ctx)
    elif kind == "msg":
        yield from _expand_msg(name, data, depth, ctx)
    else:
        yield from _expand_eml(name, data, depth, ctx)


def _too_deep(name: str, kind: str, ctx: _Ctx) -> Unreadable:
    return Unreadable(
        name,
        ctx.origin,
        f"{_KIND[kind]} nested more than {ctx.limits.max_depth} levels deep; take the files out and send them",
    )


def _take(name: str, size: int, ctx: _Ctx) -> Unreadable | None:
    """Charge one member of ``size`` bytes to the budget; the reason if it is over a limit."""
    limits, budget = ctx.limits, ctx.budget
    if size > limits.max_file_bytes:
        return Unreadable(name, ctx.origin, too_big(size, limits.max_file_bytes, "check this is the right file"))
    if size > budget.total:
        return Unreadable(
            name,
            ctx.origin,
            f"more than {size_text(limits.max_total_bytes)} in all would be unpacked (a zip bomb?); "
            "send fewer files at a time",
        )
    if size > budget.unpacked:
        return Unreadable(
            name,
            ctx.origin,
            f"more than {limits.max_input_ratio} times the size of the file it came in would be unpacked "
            "(a zip bomb?); refusing it",
        )
    budget.total -= size
    budget.unpacked -= size
    return None


# -- zip -------------------------------------------------------------------------------------

# What zipfile and its decompressors raise on malformed input (NotImplementedError, for an
# unknown compression method or zip version, is told apart where it is caught).
_ZIP_ERRORS = tuple(e for e in ZIP_ERRORS if e is not NotImplementedError)


def _expand_zip(name: str, data: bytes, depth: int, ctx: _Ctx) -> Iterator[Found]:
    limits, budget = ctx.limits, ctx.budget
    if not data.startswith(ZIP_MAGIC):
        if data.startswith(b"PK\x05\x06"):
            yield Unreadable(name, ctx.origin, "zip archive is empty")
        else:
            yield Unreadable(name, ctx.origin, "not a zip archive (corrupt, or another file renamed); zip it again")
        return
    # zipfile builds an object per directory entry before anything can be counted: count first.
    listed, listing = zip_directory(data) or (0, 0)
    if listed > budget.members:
        yield Unreadable(
            name,
            ctx.origin,
            f"zip archive has {listed} files (limit {limits.max_members}: {SETTINGS}max_files_per_input); "
            "send fewer at a time",
        )
        return
    if listing > budget.members * DIRECTORY_BYTES_PER_ENTRY:
        yield Unreadable(
            name,
            ctx.origin,
            f"zip archive's list of files takes {size_text(listing)}, more than {limits.max_members} files "
            "could need (a zip bomb?); refusing it",
        )
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except NotImplementedError as exc:  # a newer zip version than Python reads
        yield Unreadable(name, ctx.origin, f"zip archive cannot be read ({one_line(exc)}); zip the files again")
        return
    except _ZIP_ERRORS as exc:
        yield Unreadable(name, ctx.origin, f"zip archive is corrupt ({one_line(exc)}); zip the files again")
        return
    with archive:
        infos = [info for info in archive.infolist() if not info.filename.endswith("/")]
        # Cheap checks on what the archive declares, before reading any of it.
        if len(infos) > budget.members:
            yield Unreadable(
                name,
                ctx.origin,
                f"zip archive has {len(infos)} files (limit {limits.max_members}: {SETTINGS}max_files_per_input); "
                "send fewer at a time",
            )
            return
        declared = sum(info.file_size for info in infos)
        if declared > budget.total:
            yield Unreadable(
                name,
                ctx.origin,
                f"zip archive would unpack to {size_text(declared)} (limit {size_text(limits.max_total_bytes)}: "
                f"{SETTINGS}max_unpacked_mb; a zip bomb?); "
                "refusing it",
            )
            return
        # Members refused for their own ratio are not read: they cannot spoil the others.
        readable = sum(info.file_size for info in infos if not _ratio_bomb(info, limits))
        if readable > budget.unpacked:
            yield Unreadable(
                name,
                ctx.origin,
                f"zip archive would unpack to {size_text(readable)}, more than {limits.max_input_ratio} times "
                "the size of the file it came in (a zip bomb?); refusing it",
            )
            return
        members = [(info, _safe_path(info.filename)) for info in infos]
        members = [(info, member) for info, member in members if not any(map(_skipped, member.split("/")))]
        if not members:
            yield Unreadable(name, ctx.origin, "zip archive has no files in it")
            return
        for info, member in members:
            budget.members -= 1
            member_name = f"{name}!{member}"
            found = _read_member(archive, info, member_name, ctx)
            if isinstance(found, Unreadable):
                yield found
            else:
                yield from _dispatch(member_name, found, depth + 1, ctx)


def _ratio_bomb(info: zipfile.ZipInfo, limits: SourceLimits) -> bool:
    """True for a member over 1 MB that would unpack more than max_ratio times larger."""
    return info.file_size > MB and info.file_size > limits.max_ratio * max(info.compress_size, 1)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, ctx: _Ctx) -> bytes | Unreadable:
    limits = ctx.limits
    if info.flag_bits & 0x1:
        return Unreadable(name, ctx.origin, "the file is password-protected; zip it again without a password")
    if stat.S_ISLNK(info.external_attr >> 16):
        return Unreadable(name, ctx.origin, "a link inside the zip archive, not a file; skipped")
    if _ratio_bomb(info, limits):
        ratio = info.file_size // max(info.compress_size, 1)
        return Unreadable(
            name, ctx.origin, f"would unpack {ratio} times larger than it is packed (a zip bomb?); refusing it"
        )
    over = _take(name, info.file_size, ctx)
    if over is not None:
        return over
    try:
        with archive.open(info) as fh:
            data = fh.read(info.file_size + 1)  # bounded: never more than declared, plus one
    except NotImplementedError:
        return Unreadable(
            name,
            ctx.origin,
            "packed with a compression method that cannot be read; zip it again with standard settings",
        )
    except _ZIP_ERRORS as exc:
        return Unreadable(name, ctx.origin, f"corrupt in the zip archive ({one_line(exc)}); zip the files again")
    if len(data) > info.file_size:
        return Unreadable(name, ctx.origin, "unpacks larger than the zip archive declares (a zip bomb?); refusing it")
    return data


# -- e-mail (.eml) -----------------------------------------------------------------------------

# The first header of a saved e-mail (by the mail program that saved it), then "Name:".
_EMAIL_FIRST = re.compile(rb"(?i)(from|received|mime-version|return-path|delivered-to|message-id|x-[a-z0-9-]+)[ \t]*:")
_HEADER_OR_FOLD = re.compile(rb"[!-9;-~]+[ \t]*:|[ \t]")
_SIGNATURES = {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
_SMIME = {"application/pkcs7-mime", "application/x-pkcs7-mime"}
_TNEF = {"application/ms-tnef", "application/vnd.ms-tnef"}


def _looks_like_email(data: bytes) -> bool:
    """True if ``data`` starts with RFC 822 headers (two header lines, the first a telling one)."""
    lines = data[:2048].removeprefix(b"\xef\xbb\xbf").splitlines()
    return len(lines) > 1 and bool(_EMAIL_FIRST.match(lines[0])) and bool(_HEADER_OR_FOLD.match(lines[1]))


def _expand_eml(name: str, data: bytes, depth: int, ctx: _Ctx) -> Iterator[Found]:
    refused = _check_email(data, ctx)
    if refused is not None:
        yield Unreadable(name, ctx.origin, refused)
        return
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as exc:  # the email package is lenient, but not on every malformed input
        yield Unreadable(name, ctx.origin, f"e-mail is corrupt ({one_line(exc)}); save it from the mail program again")
        return
    yield from _expand_message(message, name, depth, ctx)


# -- what parsing an e-mail will cost, from its bytes

# A line as the email package splits them (a lone CR ends one too), and what it takes for a
# header line (email.feedparser's headerRE): "Name:", a folded continuation (a space or tab
# first) or an mbox "From " line.  The first other line ends the headers.
_LINE_END = re.compile(rb"\r\n|\r|\n")
_HEADER_LINE = re.compile(rb"From |[!-9;-~]*:|[ \t]")
# What the package's header parser splits a structured header at (RFC 2045 tspecials and
# white space): its cost grows with them.
_SEPARATORS = b'()<>@,;:\\"/[]?= \t'
# The headers the package parses field by field as expand reads an e-mail: Content-Type
# while parsing, Content-Disposition and Content-Transfer-Encoding for each attachment,
# Date and Subject for each e-mail.  Others are only split off as text.
_PARSED = re.compile(rb"(?i)content-|(?:date|subject)\Z")


def _check_email(data: bytes, ctx: _Ctx) -> str | None:
    """Why the e-mail in ``data`` is refused before the email package parses it, or None.

    Its parts are counted (a line starting "--" may be a boundary) and its header blocks
    measured: the e-mail's own and each part's (after such a line), all charged to the
    input's budget.
    """
    limits, budget = ctx.limits, ctx.budget
    parts = data.count(b"\n--") + data.count(b"\r--") + data.startswith(b"--")
    if parts > budget.mime_parts:
        return (
            f"e-mail has {parts:,} parts (limit {limits.max_mime_parts:,} in all, from "
            f"{SETTINGS}max_files_per_input); send fewer at a time"
        )
    budget.mime_parts -= parts
    dashes = [0] if data.startswith(b"--") else []  # where lines starting "--" start
    for mark in (b"\n--", b"\r--"):  # "\r\n--" is found once, as "\n--"
        at = data.find(mark)
        while at >= 0:
            dashes.append(at + 1)
            at = data.find(mark, at + len(mark))
    starts = [0]  # where headers may start: the top, and after each "--" line
    for at in dashes:
        found = _LINE_END.search(data, at)
        starts.append(found.end() if found else len(data))
    read_to = 0
    for start in sorted(starts):
        if start < read_to:
            continue  # read already, as headers of the part before
        refused, read_to = _check_headers(data, start, ctx)
        if refused is not None:
            return refused
    return None


def _check_headers(data: bytes, pos: int, ctx: _Ctx) -> tuple[str | None, int]:
    """Why the headers at ``pos`` are refused (or None), and where they end.

    Headers end at the first line that is not one.  After a blank line the lines are read as
    headers too while they look like them: a part may hold an e-mail, whose headers come next
    (announced by message/rfc822, or not, in a multipart/digest).  A message/delivery-status
    part holds header blocks down to the next "--" line.  Each line is charged to the budget.
    """
    limits, budget = ctx.limits, ctx.budget
    name, size, words, separators, parsed = b"", 0, 0, 0, False  # the header being read
    status = False  # in a message/delivery-status part
    refused: str | None = None
    while pos < len(data):
        if budget.header_lines <= 0:
            refused = (
                f"e-mail headers run to more than {limits.max_header_lines:,} lines in all (limit from "
                f"{SETTINGS}max_files_per_input); send fewer at a time"
            )
            break
        budget.header_lines -= 1
        found = _LINE_END.search(data, pos)
        end, after = (found.start(), found.end()) if found else (len(data), len(data))
        if end == pos or data[pos] not in b" \t":  # not a continuation: the header before is complete
            refused = _header_refused(name, size, words, separators, ctx)
            name, size, words, separators, parsed = b"", 0, 0, 0, False
            if refused is not None:
                break
            if end > pos and _HEADER_LINE.match(data, pos) is None:  # a body
                if not status or data.startswith(b"--", pos):
                    return None, pos
                pos = after  # a delivery-status block's text: its next block follows a blank line
                continue
            colon = data.find(b":", pos, end)
            name = data[pos : min(colon, pos + 100)] if colon >= 0 else b""
            parsed = _PARSED.match(name) is not None
        size += end - pos
        if size > limits.max_header_bytes:  # refused before a long line is copied
            break
        if parsed:  # a header never parsed (To:, Received:) costs nothing however it is encoded
            words += data.count(b"=?", pos, end)
            line = data[pos:end]
            separators += len(line) - len(line.translate(None, _SEPARATORS))
            status = status or (name.lower() == b"content-type" and b"delivery-status" in line.lower())
        pos = after
    return refused or _header_refused(name, size, words, separators, ctx), pos


def _header_refused(name: bytes, size: int, words: int, separators: int, ctx: _Ctx) -> str | None:
    """Why one header (its name, unfolded size, encoded words and separators if parsed
    field by field) is refused, or None: its separators are then charged to the budget."""
    limits, budget = ctx.limits, ctx.budget
    if size > limits.max_header_bytes:
        return f"{_named(name)} longer than {size_text(limits.max_header_bytes)} (a hostile e-mail?); refusing it"
    if words > limits.max_encoded_words:
        return (
            f"{_named(name)} of {words:,} encoded words (limit {limits.max_encoded_words:,}; a hostile e-mail?); "
            "refusing it"
        )
    if separators > limits.max_header_separators:
        return (
            f"{_named(name)} of {separators:,} parameters and separators (limit {limits.max_header_separators:,}; "
            "a hostile e-mail?); refusing it"
        )
    if separators > budget.parsed_separators:
        return (
            f"e-mail headers hold more than {limits.max_parsed_separators:,} parameters and separators in all "
            f"(limit from {SETTINGS}max_files_per_input); send fewer at a time"
        )
    budget.parsed_separators -= separators
    return None


def _named(name: bytes) -> str:
    return f"e-mail has a {_clean(name.decode('ascii', 'replace'), 60)} header"


def _sent_with(found: Iterable[Found], sent: datetime | None) -> Iterator[Found]:
    """``found``, files not stamped yet stamped as sent at ``sent`` (an e-mail inside an
    e-mail stamps its own attachments first: the innermost sending counts)."""
    for item in found:
        if sent is not None and isinstance(item, Incoming) and item.sent_at is None:
            item = replace(item, sent_at=sent)
        yield item


def _email_date(message: Message) -> datetime | None:
    """The Date header in UTC (a date without a zone is taken as UTC), or None if absent
    or not a date."""
    try:
        raw = message.get("Date")
        when = email.utils.parsedate_to_datetime(str(raw)) if raw is not None else None
        if when is None:
            return None
        # Converting to UTC can overflow (year 9999 at -12:00): that too is "not a date".
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except Exception:  # a malformed header: the file is still read, with no sending time
        return None


def _expand_message(message: Message, name: str, depth: int, ctx: _Ctx) -> Iterator[Found]:
    yield from _sent_with(_expand_message_parts(message, name, depth, ctx), _email_date(message))


def _expand_message_parts(message: Message, name: str, depth: int, ctx: _Ctx) -> Iterator[Found]:
    budget = ctx.budget
    try:
        parts = _attachment_parts(message, budget.members + 1)
    except Exception as exc:  # header parsing can fail on hostile input in ways the package does not catch
        yield Unreadable(name, ctx.origin, f"e-mail is corrupt ({one_line(exc)}); save it from the mail program again")
        return
    if not parts:
        yield Unreadable(name, ctx.origin, "no attachments in the e-mail; attach the completed form and send it again")
        return
    if len(parts) > budget.members:
        yield Unreadable(
            name, ctx.origin, f"e-mail has more than {ctx.limits.max_members} attachments; send fewer at a time"
        )
        return
    for number, part in enumerate(parts, 1):
        budget.members -= 1
        try:
            filename, payload = _attachment(part, number)
        except Exception as exc:
            yield Unreadable(f"{name}!attachment {number}", ctx.origin, f"attachment is corrupt ({one_line(exc)})")
            continue
        attachment_name = f"{name}!{filename}"
        if isinstance(payload, str):
            yield Unreadable(attachment_name, ctx.origin, payload)
        elif isinstance(payload, Message):
            if depth + 1 >= ctx.limits.max_depth:
                yield _too_deep(attachment_name, "eml", ctx)
            else:
                yield from _expand_message(payload, attachment_name, depth + 1, ctx)
        else:
            over = _take(attachment_name, len(payload), ctx)
            if over is not None:
                yield over
            else:
                yield from _dispatch(attachment_name, payload, depth + 1, ctx)


def _attachment_parts(message: Message, cap: int) -> list[Message]:
    """The attachments in document order: attached files, inline parts with a filename, and
    attached e-mails (message/rfc822, not descended into).  Walked without recursion."""
    found: list[Message] = []
    stack = [message]
    while stack and len(found) < cap:
        part = stack.pop()
        ctype = part.get_content_type()
        if ctype == "message/rfc822" and part is not message:
            found.append(part)
        elif part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(sub for sub in reversed(payload) if isinstance(sub, Message))
        elif ctype in _SIGNATURES:
            continue  # a signature on the e-mail, not a file the sender attached
        elif part.get_content_disposition() == "attachment" or part.get_filename():
            found.append(part)
    return found


def _attachment(part: Message, number: int) -> tuple[str, bytes | Message | str]:
    """(display name, content): bytes, an attached e-mail, or the reason it cannot be read."""
    ctype = part.get_content_type()
    filename = _safe_basename(part.get_filename() or "")
    if ctype == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            if not filename:
                subject = _safe_basename(str(inner[0].get("subject", "") or ""))
                filename = f"{subject or f'attached e-mail {number}'}.eml"
            return filename, inner[0]
        # Encoded (base64) attached e-mails are not parsed by the package: open the bytes.
        filename = filename or f"attached e-mail {number}"
        if not filename.lower().endswith(".eml"):
            filename += ".eml"
    if not filename:
        filename = f"attachment {number}"
    if ctype in _TNEF or filename.lower() == "winmail.dat":
        return filename, (
            "Outlook sent the attachments in rich-text format (winmail.dat), which cannot be read; "
            "ask the sender to send in HTML or plain-text format"
        )
    if ctype in _SMIME:
        return filename, "the e-mail is encrypted (S/MIME); ask the sender to send it without encryption"
    data = part.get_payload(decode=True)
    return filename, data if isinstance(data, bytes) else b""


# -- Outlook (.msg) ----------------------------------------------------------------------------

# [MS-OXMSG]: each attachment is a storage; its properties are streams named by tag.
_ATTACH_PREFIX = "__attach_version1.0_#"
_ATTACH_DATA = "__substg1.0_37010102"  # PidTagAttachDataBinary
_ATTACH_OBJECT = "__substg1.0_3701000D"  # PidTagAttachDataObject: an embedded message or OLE object
_ATTACH_NAMES = ("3707", "3704", "3001")  # long filename, short filename, display name
_SUBJECT = "0037"
_PROPERTIES = "__properties_version1.0"
_ATTACH_METHOD_TAG = 0x37050003  # PidTagAttachMethod, PT_LONG
_SUBMIT_TIME_TAG = 0x00390040  # PidTagClientSubmitTime, PT_SYSTIME
_ATTACH_OLE = 6
_MAX_STRING_BYTES = 64 * 1024
# [MS-CFB]: sector numbers from this one up are markers (end of chain, free, ...).
_MAX_SECTOR = 0xFFFFFFFA
_DIRECTORY_ENTRY_BYTES = 128

# An entry of olefile's directory tree (OleDirectoryEntry: olefile has no type hints).
# Looked up by name through its ``kids_dict``: olefile's own path lookups scan every sibling,
# which for thousands of attachments costs time growing with the square of their number.
_Entry = Any


class _CorruptMsg(Exception):
    pass


def _expand_msg(name: str, data: bytes, depth: int, ctx: _Ctx) -> Iterator[Found]:
    limits, budget = ctx.limits, ctx.budget
    if not data.startswith(OLE_MAGIC):
        yield Unreadable(
            name, ctx.origin, "not an Outlook message (corrupt, or another file renamed); save it from Outlook again"
        )
        return
    damaged = check_ole_header(data)
    if damaged is not None:
        yield Unreadable(name, ctx.origin, f"Outlook message is corrupt ({damaged}); save it from Outlook again")
        return
    # olefile reads the whole directory on opening, checking each stream against all those
    # before it: count the entries first.
    cap = min(limits.max_msg_entries, budget.ole_entries)
    entries = _ole_directory_entries(data, cap)
    if entries > cap:
        yield Unreadable(
            name,
            ctx.origin,
            f"Outlook message has more than {cap:,} entries inside (limit {limits.max_msg_entries:,} a message, "
            f"{limits.max_ole_entries:,} in all, from {SETTINGS}max_files_per_input); send fewer attachments at a time",
        )
        return
    budget.ole_entries -= entries
    try:
        # A file object, never bytes: olefile treats short bytes as a file name to open.
        ole = olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)
    except Exception as exc:  # olefile raises many exception types on malformed input
        yield Unreadable(name, ctx.origin, f"Outlook message is corrupt ({one_line(exc)}); save it from Outlook again")
        return
    with ole:
        # The mini stream holds every small stream and is read in one go on first use.
        if ole.root.size > limits.max_file_bytes:
            yield Unreadable(
                name,
                ctx.origin,
                "Outlook message is corrupt (its mini stream is larger than a message can be); "
                "save it from Outlook again",
            )
            return
        yield from _expand_msg_storage(ole, ole.root, name, depth, ctx)


def _ole_directory_entries(data: bytes, cap: int) -> int:
    """How many directory entries the compound file ``data`` has room for, counted along its
    directory's chain of sectors (``check_ole_header`` passed), stopping once past ``cap``.

    A chain that cannot be followed ends the count: olefile says what is wrong with it."""
    (shift,) = struct.unpack_from("<H", data, 0x1E)
    size = 1 << shift
    per_sector = size // 4
    (first_directory,) = struct.unpack_from("<I", data, 0x30)
    first_difat, difat_sectors = struct.unpack_from("<II", data, 0x44)
    # Where the sector table is: 109 sectors named in the header, then a chain of DIFAT sectors.
    fat = list(struct.unpack_from("<109I", data, 0x4C))
    sector = first_difat
    for _ in range(difat_sectors):
        offset = (sector + 1) * size
        if sector >= _MAX_SECTOR or offset + size > len(data):
            break
        *named, sector = struct.unpack_from(f"<{per_sector}I", data, offset)
        fat.extend(named)
    count = 0
    sector = first_directory
    while sector < _MAX_SECTOR and count <= cap:  # a chain that loops is stopped by the cap
        count += size // _DIRECTORY_ENTRY_BYTES
        table, index = divmod(sector, per_sector)
        offset = (fat[table] + 1) * size + 4 * index if table < len(fat) else len(data)
        if offset + 4 > len(data):
            break
        (sector,) = struct.unpack_from("<I", data, offset)
    return count


def _child(storage: _Entry, name: str) -> _Entry | None:
    """The entry called ``name`` (in any case, as the format says) in ``storage``, or None."""
    return storage.kids_dict.get(name.lower())


def _stream(storage: _Entry, name: str) -> _Entry | None:
    kid = _child(storage, name)
    return kid if kid is not None and kid.entry_type == olefile.STGTY_STREAM else None


def _read_stream(ole: olefile.OleFileIO, stream: _Entry, limit: int) -> bytes:
    """At most ``limit`` bytes of ``stream`` (olefile's openstream would look it up by path)."""
    return bytes(ole._open(stream.isectStart, stream.size).read(limit))


def _expand_msg_storage(ole: olefile.OleFileIO, storage: _Entry, name: str, depth: int, ctx: _Ctx) -> Iterator[Found]:
    yield from _sent_with(_expand_msg_attachments(ole, storage, name, depth, ctx), _msg_sent(ole, storage))


def _expand_msg_attachments(
    ole: olefile.OleFileIO, storage: _Entry, name: str, depth: int, ctx: _Ctx
) -> Iterator[Found]:
    """The attachments of the message in ``storage`` (the root, or an embedded message)."""
    budget = ctx.budget
    attachments = sorted(
        (
            kid
            for kid in storage.kids
            if kid.entry_type == olefile.STGTY_STORAGE and kid.name.lower().startswith(_ATTACH_PREFIX)
        ),
        key=lambda kid: kid.name,
    )
    if not attachments:
        yield Unreadable(
            name, ctx.origin, "no attachments in the Outlook message; attach the completed form and send it again"
        )
        return
    if len(attachments) > budget.members:
        yield Unreadable(
            name, ctx.origin, f"Outlook message has more than {ctx.limits.max_members} attachments; send fewer"
        )
        return
    for number, attachment in enumerate(attachments, 1):
        budget.members -= 1
        try:
            filename, content = _msg_attachment(ole, attachment, number, ctx)
        except Exception as exc:  # olefile raises many exception types on malformed input
            yield Unreadable(f"{name}!attachment {number}", ctx.origin, f"attachment is corrupt ({one_line(exc)})")
            continue
        attachment_name = f"{name}!{filename}"
        if isinstance(content, str):
            yield Unreadable(attachment_name, ctx.origin, content)
        elif isinstance(content, bytes):
            yield from _dispatch(attachment_name, content, depth + 1, ctx)
        elif depth + 1 >= ctx.limits.max_depth:
            yield _too_deep(attachment_name, "msg", ctx)
        else:
            yield from _expand_msg_storage(ole, content, attachment_name, depth + 1, ctx)


def _msg_attachment(
    ole: olefile.OleFileIO, storage: _Entry, number: int, ctx: _Ctx
) -> tuple[str, bytes | str | _Entry]:
    """(display name, content): the file's bytes, the storage of an embedded message, or
    the reason it cannot be read."""
    filename = ""
    for prop in _ATTACH_NAMES:
        filename = _safe_basename(_msg_string(ole, storage, prop) or "")
        if filename:
            break
    data_stream = _stream(storage, _ATTACH_DATA)
    embedded = _child(storage, _ATTACH_OBJECT)
    if data_stream is not None:
        size = data_stream.size
        over = _take(f"attachment {number}", size, ctx)
        if over is not None:
            return filename or f"attachment {number}", over.reason
        data = _read_stream(ole, data_stream, size + 1)
        if len(data) != size:
            raise _CorruptMsg("attachment data is not the size it declares")
        return filename or f"attachment {number}", data
    if (
        embedded is not None
        and embedded.entry_type == olefile.STGTY_STORAGE
        and _attach_method(ole, storage) != _ATTACH_OLE
    ):
        if not filename:
            filename = _safe_basename(_msg_string(ole, embedded, _SUBJECT) or "") or f"attached message {number}"
        if not filename.lower().endswith(".msg"):
            filename += ".msg"
        return filename, embedded
    return filename or f"attachment {number}", (
        "not an attached file (a link or an embedded object); attach the file itself and send it again"
    )


def _msg_string(ole: olefile.OleFileIO, storage: _Entry, prop: str) -> str | None:
    """A string property: Unicode (…001F, UTF-16LE) or, in old files, 8-bit (…001E)."""
    for suffix, codec in (("001F", "utf-16-le"), ("001E", "cp1252")):
        stream = _stream(storage, f"__substg1.0_{prop}{suffix}")
        if stream is None or stream.size > _MAX_STRING_BYTES:
            continue
        text = _read_stream(ole, stream, _MAX_STRING_BYTES).decode(codec, errors="replace").split("\x00")[0]
        if text.strip():
            return text
    return None


def _fixed_property(ole: olefile.OleFileIO, storage: _Entry, header: int, wanted: int) -> bytes | None:
    """The 8-byte value of property ``wanted`` in a storage's fixed-size property stream:
    a header (32 bytes for the message, 24 for an embedded one, 8 for an attachment),
    then 16-byte entries (tag, flags, value)."""
    stream = _stream(storage, _PROPERTIES)
    if stream is None or stream.size > _MAX_STRING_BYTES:
        return None
    raw = _read_stream(ole, stream, _MAX_STRING_BYTES)
    for offset in range(header, len(raw) - 15, 16):
        (tag,) = struct.unpack_from("<I", raw, offset)
        if tag == wanted:
            return raw[offset + 8 : offset + 16]
    return None


def _attach_method(ole: olefile.OleFileIO, storage: _Entry) -> int | None:
    """PidTagAttachMethod from the attachment's fixed-size property stream, if present."""
    value = _fixed_property(ole, storage, 8, _ATTACH_METHOD_TAG)
    return struct.unpack_from("<I", value)[0] if value is not None else None


#: FILETIME counts 100-nanosecond steps from 1601-01-01 UTC.
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def _msg_sent(ole: olefile.OleFileIO, storage: _Entry) -> datetime | None:
    """When the Outlook message in ``storage`` was sent (PidTagClientSubmitTime), in UTC."""
    try:
        value = _fixed_property(ole, storage, 32 if storage is ole.root else 24, _SUBMIT_TIME_TAG)
        if value is None:
            return None
        (ticks,) = struct.unpack("<Q", value)
        return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)
    except Exception:  # a damaged property stream or a nonsense time: no sending time
        return None


# -- display names ------------------------------------------------------------------------------

# Control and format characters (newlines, right-to-left overrides, zero-width marks) in a
# file name can disguise it on screen or in a one-line report.
_UNSAFE = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_DRIVE = re.compile(r"^[A-Za-z]:")


def _clean(text: str, limit: int = 200) -> str:
    out = "".join("_" if unicodedata.category(ch) in _UNSAFE else ch for ch in text).strip()
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _shown(path: Path) -> str:
    """A path as it is shown and recorded: control and format characters in a file name
    (an escape sequence, a right-to-left override) become "_", so that a name can
    neither disguise itself in a one-line report nor break the summary workbook."""
    text = str(path)
    return "".join("_" if unicodedata.category(ch) in _UNSAFE else ch for ch in text)


def _safe_path(raw: str) -> str:
    """A member name fit for display: no drive, no root, no '..', '/' as the only separator.

    Only a name: nothing is ever written, so this is about what the user reads.
    """
    parts = (_clean(part) for part in _DRIVE.sub("", raw.replace("\\", "/")).split("/"))
    return "/".join(part for part in parts if part not in ("", ".", "..")) or "(unnamed)"


def _safe_basename(raw: str) -> str:
    """The last component of a sender-supplied file name, fit for display ('' if none)."""
    name = _safe_path(raw).rsplit("/", 1)[-1]
    return "" if name == "(unnamed)" else name
