"""expand(): files, folders, zip archives, .eml and .msg e-mails into the files inside.

Every input is built here from synthetic bytes.  Outlook .msg files are written by a small
Compound File Binary writer below (olefile only reads), checked by reading it back with olefile.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import olefile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditdocs.returns.sources import Incoming, SourceLimits, Unreadable, expand

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def run(*paths: Path, limits: SourceLimits | None = None) -> list[Incoming | Unreadable]:
    return list(expand(paths) if limits is None else expand(paths, limits))


def incoming(items: list[Incoming | Unreadable]) -> dict[str, bytes]:
    return {i.name: i.data for i in items if isinstance(i, Incoming)}


def unreadable(items: list[Incoming | Unreadable]) -> dict[str, str]:
    return {i.name: i.reason for i in items if isinstance(i, Unreadable)}


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buf.getvalue()


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def one_line(reason: str) -> bool:
    return "\n" not in reason and "\r" not in reason and reason.strip() == reason


# -- plain files and folders --------------------------------------------------------------------


def test_a_file_is_yielded_with_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "form.docx"
    path.write_bytes(b"PK\x03\x04 a docx is a zip but is not opened")
    assert run(path) == [Incoming(str(path), path.read_bytes(), str(path))]


def test_a_missing_path_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.docx"
    assert run(path) == [Unreadable(str(path), str(path), "file not found")]


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.docx"
    path.write_bytes(b"x" * 2000)
    [item] = run(path, limits=SourceLimits(max_file_bytes=1000))
    assert isinstance(item, Unreadable)
    assert "over the" in item.reason and one_line(item.reason)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.docx"
    os.mkfifo(fifo)  # reading it would block for ever
    [item] = run(fifo)
    assert isinstance(item, Unreadable) and "not a regular file" in item.reason


def test_an_explicit_lock_file_is_explained(tmp_path: Path) -> None:
    lock = tmp_path / "~$form.docx"
    lock.write_bytes(b"\x0bQA Officer")
    [item] = run(lock)
    assert isinstance(item, Unreadable) and "lock file" in item.reason


def test_a_folder_is_walked_in_name_order_skipping_hidden_and_lock_files(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    (folder / "team b" / "deep").mkdir(parents=True)
    (folder / "team a").mkdir()
    (folder / ".git").mkdir()
    files = {
        "z.docx": b"z",
        "a.docx": b"a",
        "team a/one.docx": b"1",
        "team b/deep/two.docx": b"2",
        "team b/~$two.docx": b"lock",
        "~$lock.docx": b"lock",
        ".DS_Store": b"mac",
        ".git/config": b"hidden",
    }
    for rel, data in files.items():
        (folder / rel).write_bytes(data)
    items = run(folder)
    assert [i.name for i in items] == [
        str(folder / "a.docx"),
        str(folder / "team a" / "one.docx"),
        str(folder / "team b" / "deep" / "two.docx"),
        str(folder / "z.docx"),
    ]
    assert all(isinstance(i, Incoming) and i.origin == str(folder) for i in items)
    assert incoming(items)[str(folder / "team b" / "deep" / "two.docx")] == b"2"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_folder_follows_no_link_out_of_it_and_no_loop(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere"
    secret.mkdir()
    (secret / "private.docx").write_bytes(b"private")
    folder = tmp_path / "returns"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "form.docx").write_bytes(b"form")
    (folder / "out.docx").symlink_to(secret / "private.docx")
    (folder / "outdir").symlink_to(secret, target_is_directory=True)
    (folder / "sub" / "up").symlink_to(folder, target_is_directory=True)  # a loop
    (folder / "same.docx").symlink_to(folder / "sub" / "form.docx")  # inside: followed
    (folder / "dangling.docx").symlink_to(tmp_path / "gone.docx")
    items = run(folder)
    assert incoming(items) == {str(folder / "same.docx"): b"form", str(folder / "sub" / "form.docx"): b"form"}
    reasons = unreadable(items)
    assert set(reasons) == {str(folder / n) for n in ("out.docx", "outdir", "dangling.docx")}
    assert "outside the folder" in reasons[str(folder / "out.docx")]
    assert all(b"private" not in data for data in incoming(items).values())


# -- zip archives -------------------------------------------------------------------------------


def test_a_zip_is_expanded_with_a_nested_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    inner = zip_bytes({"c.docx": b"ccc"})
    Path("batch.zip").write_bytes(
        zip_bytes({"forms/": b"", "forms/a.docx": b"aaa", "b.docx": b"bbb", "more/inner.zip": inner})
    )
    items = run(Path("batch.zip"))
    assert incoming(items) == {
        "batch.zip!forms/a.docx": b"aaa",
        "batch.zip!b.docx": b"bbb",
        "batch.zip!more/inner.zip!c.docx": b"ccc",
    }
    assert [i.name for i in items] == ["batch.zip!forms/a.docx", "batch.zip!b.docx", "batch.zip!more/inner.zip!c.docx"]
    assert all(i.origin == "batch.zip" for i in items)


def test_a_docx_is_not_expanded_though_it_is_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "form.docx"
    path.write_bytes(zip_bytes({"word/document.xml": b"<w:document/>"}))
    assert run(path) == [Incoming(str(path), path.read_bytes(), str(path))]


def test_zips_nested_too_deep_are_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = zip_bytes({"form.docx": b"deep"})
    for level in (3, 2, 1):
        data = zip_bytes({f"l{level}.zip": data})
    Path("top.zip").write_bytes(data)
    [item] = run(Path("top.zip"))
    assert item == Unreadable("top.zip!l1.zip!l2.zip!l3.zip", "top.zip", item.reason)
    assert isinstance(item, Unreadable) and "nested more than 3 levels" in item.reason
    [ok] = run(Path("top.zip"), limits=SourceLimits(max_depth=4))
    assert ok == Incoming("top.zip!l1.zip!l2.zip!l3.zip!form.docx", b"deep", "top.zip")


def test_zip_member_names_are_made_safe_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    members = {
        "../evil.docx": b"e",
        "/abs.docx": b"a",
        "C:\\Windows\\drive.docx": b"d",
        "..\\..\\back.docx": b"b",
        "ok/./../name\u202excod.docx": b"r",
    }
    Path("bad.zip").write_bytes(zip_bytes(members, zipfile.ZIP_STORED))
    before = snapshot(tmp_path)
    items = run(Path("bad.zip"))
    assert incoming(items) == {
        "bad.zip!evil.docx": b"e",
        "bad.zip!abs.docx": b"a",
        "bad.zip!Windows/drive.docx": b"d",
        "bad.zip!back.docx": b"b",
        "bad.zip!ok/name_xcod.docx": b"r",
    }
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "evil.docx").exists() and not Path("/abs.docx").exists()


def test_zip_skips_hidden_members_and_macos_forks(tmp_path: Path) -> None:
    path = tmp_path / "mac.zip"
    path.write_bytes(
        zip_bytes({"form.docx": b"f", "__MACOSX/._form.docx": b"fork", ".DS_Store": b"ds", "~$form.docx": b"lock"})
    )
    assert incoming(run(path)) == {f"{path}!form.docx": b"f"}


def test_a_high_ratio_member_is_a_zip_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(zip_bytes({"zeros.docx": bytes(20 * 1024 * 1024), "fine.docx": b"fine"}))
    assert path.stat().st_size < 100_000
    items = run(path)
    assert incoming(items) == {f"{path}!fine.docx": b"fine"}
    reason = unreadable(items)[f"{path}!zeros.docx"]
    assert "zip bomb" in reason and one_line(reason)


def _set_declared_size(data: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size of the (only) member in its local and central headers."""
    raw = bytearray(data)
    local = raw.index(b"PK\x03\x04")
    central = raw.index(b"PK\x01\x02")
    struct.pack_into("<I", raw, local + 22, size)
    struct.pack_into("<I", raw, central + 24, size)
    return bytes(raw)


def test_a_member_declaring_a_huge_size_is_a_zip_bomb_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.zip"
    path.write_bytes(_set_declared_size(zip_bytes({"form.docx": b"small"}), 0xFFFF_FFF0))
    [item] = run(path)
    assert isinstance(item, Unreadable) and item.name == str(path)
    assert "zip bomb" in item.reason and one_line(item.reason)


def test_a_member_larger_than_declared_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "liar.zip"
    path.write_bytes(_set_declared_size(zip_bytes({"form.docx": b"x" * 5000}), 100))
    [item] = run(path)
    assert isinstance(item, Unreadable) and item.name == f"{path}!form.docx"


def test_a_member_over_the_file_limit_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    path.write_bytes(zip_bytes({"big.docx": b"x" * 5000, "ok.docx": b"ok"}))
    items = run(path, limits=SourceLimits(max_file_bytes=4000))
    assert incoming(items) == {f"{path}!ok.docx": b"ok"}
    assert "over the" in unreadable(items)[f"{path}!big.docx"]


def test_too_many_members_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    path.write_bytes(zip_bytes({f"{n}.docx": b"x" for n in range(5)}))
    [item] = run(path, limits=SourceLimits(max_members=4))
    assert isinstance(item, Unreadable)
    assert "5 files (limit 4: config/organisation.yaml limits.max_files_per_input)" in item.reason


def test_the_member_budget_is_shared_by_nested_zips(tmp_path: Path) -> None:
    inner = zip_bytes({f"{n}.docx": b"x" for n in range(3)})
    path = tmp_path / "outer.zip"
    path.write_bytes(zip_bytes({"a.zip": inner, "b.zip": inner}))
    items = run(path, limits=SourceLimits(max_members=6))
    assert len(incoming(items)) == 3
    assert list(unreadable(items)) == [f"{path}!b.zip"]


def test_an_encrypted_member_is_password_protected(tmp_path: Path) -> None:
    raw = bytearray(zip_bytes({"secret.docx": b"not really encrypted", "open.docx": b"open"}, zipfile.ZIP_STORED))
    # Set the "encrypted" flag (bit 0) on the first member in its local and central headers.
    raw[6] |= 0x1
    raw[raw.index(b"PK\x01\x02") + 8] |= 0x1
    path = tmp_path / "locked.zip"
    path.write_bytes(bytes(raw))
    items = run(path)
    assert incoming(items) == {f"{path}!open.docx": b"open"}
    assert "password-protected" in unreadable(items)[f"{path}!secret.docx"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"PK\x03\x04" + os.urandom(200), "corrupt"),
        (zip_bytes({"a.docx": b"a" * 100})[:-30], "corrupt"),
        (b"this is not a zip at all", "not a zip archive"),
        (b"PK\x05\x06" + bytes(18), "empty"),
        (zip_bytes({"empty/": b""}), "no files"),
    ],
)
def test_a_bad_zip_is_unreadable(tmp_path: Path, data: bytes, words: str) -> None:
    path = tmp_path / "bad.zip"
    path.write_bytes(data)
    [item] = run(path)
    assert isinstance(item, Unreadable) and item.name == str(path)
    assert words in item.reason and one_line(item.reason)


def test_a_folder_with_a_zip_keeps_the_folder_as_origin(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "batch.zip").write_bytes(zip_bytes({"a.docx": b"a"}))
    assert run(folder) == [Incoming(f"{folder / 'batch.zip'}!a.docx", b"a", str(folder))]


# -- e-mail (.eml) ------------------------------------------------------------------------------


def email_with(*attachments: tuple[str, bytes], body: str = "Please find the audit attached.") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Auditor One <auditor@example.org>"
    msg["To"] = "qa@example.org"
    msg["Subject"] = "Returned audit"
    msg.set_content(body)
    for filename, data in attachments:
        maintype, subtype = DOCX.split("/") if filename.endswith(".docx") else ("application", "octet-stream")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def test_an_eml_yields_its_attachments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("mail.eml").write_bytes(email_with(("a.docx", b"A\x00\xff" * 50), ("b.docx", b"B")).as_bytes())
    items = run(Path("mail.eml"))
    assert items == [
        Incoming("mail.eml!a.docx", b"A\x00\xff" * 50, "mail.eml"),
        Incoming("mail.eml!b.docx", b"B", "mail.eml"),
    ]


def test_files_from_an_e_mail_carry_when_it_was_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    inner = email_with(("inner.docx", b"inner"))
    inner["Date"] = "Mon, 30 Nov 2026 18:45:00 +0100"  # forwarded: its own sending counts
    outer = email_with(("top.docx", b"top"))
    outer["Date"] = "Wed, 02 Dec 2026 09:00:00 -0000"  # no zone given: taken as UTC
    outer.add_attachment(inner, filename="forwarded.eml")
    Path("fwd.eml").write_bytes(outer.as_bytes())
    bad = email_with(("b.docx", b"b"))
    bad["Date"] = "the day after tomorrow"
    Path("bad.eml").write_bytes(bad.as_bytes())
    Path("none.eml").write_bytes(email_with(("n.docx", b"n")).as_bytes())
    overflow = email_with(("o.docx", b"o"))
    overflow["Date"] = "Fri, 31 Dec 9999 23:59:59 -1200"  # overflows when made UTC (issue 13)
    Path("overflow.eml").write_bytes(overflow.as_bytes())
    Path("plain.docx").write_bytes(b"plain")
    sent = {item.name: item.sent_at for item in run(Path("."))}
    assert sent == {
        str(Path("overflow.eml")) + "!o.docx": None,
        str(Path("fwd.eml")) + "!top.docx": datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
        str(Path("fwd.eml")) + "!forwarded.eml!inner.docx": datetime(2026, 11, 30, 17, 45, tzinfo=UTC),
        str(Path("bad.eml")) + "!b.docx": None,
        str(Path("none.eml")) + "!n.docx": None,
        str(Path("plain.docx")): None,
    }


def test_an_attached_eml_and_a_zip_attachment_are_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    inner = email_with(("inner.docx", b"inner"))
    outer = email_with(("top.docx", b"top"))
    outer.add_attachment(inner, filename="forwarded.eml")
    Path("fwd.eml").write_bytes(outer.as_bytes())
    Path("zipped.eml").write_bytes(email_with(("forms.zip", zip_bytes({"z.docx": b"zz"}))).as_bytes())
    items = run(Path("fwd.eml"), Path("zipped.eml"))
    assert incoming(items) == {
        "fwd.eml!top.docx": b"top",
        "fwd.eml!forwarded.eml!inner.docx": b"inner",
        "zipped.eml!forms.zip!z.docx": b"zz",
    }
    assert not unreadable(items)


def test_an_attached_eml_is_named_by_its_subject_without_a_filename(tmp_path: Path) -> None:
    inner = email_with(("inner.docx", b"inner"))
    outer = email_with()
    outer.add_attachment(inner)
    path = tmp_path / "fwd.eml"
    path.write_bytes(outer.as_bytes())
    assert incoming(run(path)) == {f"{path}!Returned audit.eml!inner.docx": b"inner"}


def test_an_eml_without_attachments_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "empty.eml"
    path.write_bytes(email_with(body="I will send it tomorrow.").as_bytes())
    [item] = run(path)
    assert isinstance(item, Unreadable) and "no attachments in the e-mail" in item.reason


def test_an_eml_is_recognised_by_its_headers_without_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "message"
    path.write_bytes(b"Received: from mail.example.org\r\n" + email_with(("a.docx", b"a")).as_bytes())
    assert incoming(run(path)) == {f"{path}!a.docx": b"a"}
    text = tmp_path / "notes.txt"
    text.write_bytes(b"From: the notes of the meeting\nsomething else\n")
    assert run(text) == [Incoming(str(text), text.read_bytes(), str(text))]


NAMES_EML = (
    "From: auditor@example.org\r\nTo: qa@example.org\r\nSubject: names\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename*=utf-8''Pr%C3%BCfung%20%C3%9Cn%C3%AFcode.docx\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\ndQ==\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\n"
    'Content-Disposition: attachment; filename="=?utf-8?q?..=5C..=5Ctmp/evil=0D=0Aname=E2=80=AE.docx?="\r\n\r\n'
    "e\r\n"
    '--b\r\nContent-Type: image/png; name="=?utf-8?b?bG9nb8OpLnBuZw==?="\r\nContent-Disposition: inline\r\n\r\n'
    "i\r\n"
    "--b--\r\n"
)


def test_eml_filenames_are_decoded_and_made_safe(tmp_path: Path) -> None:
    path = tmp_path / "names.eml"
    path.write_bytes(NAMES_EML.encode("ascii"))
    items = run(path)
    assert [(i.name.split("!", 1)[1], i.data) for i in items if isinstance(i, Incoming)] == [
        ("Prüfung Ünïcode.docx", b"u"),  # RFC 2231
        ("evil__name_.docx", b"e"),  # encoded-word with a path, CR LF and a right-to-left override
        ("logoé.png", b"i"),  # an inline part with a name
    ]


def test_winmail_dat_is_explained(tmp_path: Path) -> None:
    msg = email_with()
    msg.add_attachment(b"\x78\x9f\x3e\x22", maintype="application", subtype="ms-tnef", filename="winmail.dat")
    path = tmp_path / "rtf.eml"
    path.write_bytes(msg.as_bytes())
    [item] = run(path)
    assert isinstance(item, Unreadable) and "winmail.dat" in item.reason


# -- Outlook (.msg): a minimal Compound File Binary writer ---------------------------------------

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
SECTOR, MINI_SECTOR, CUTOFF = 512, 64, 4096
Tree = dict[str, "bytes | Tree"]


@dataclass
class Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    data: bytes = b""
    kids: list[int] = field(default_factory=list)
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    red: bool = False
    start: int = ENDOFCHAIN
    size: int = 0


def _sibling_tree(ids: list[int], entries: list[Entry], depth: int, depths: dict[int, int]) -> int:
    """A balanced binary tree of siblings in CFB order (name length, then upper-case name)."""
    if not ids:
        return NOSTREAM
    mid = len(ids) // 2
    node = entries[ids[mid]]
    depths[ids[mid]] = depth
    node.left = _sibling_tree(ids[:mid], entries, depth + 1, depths)
    node.right = _sibling_tree(ids[mid + 1 :], entries, depth + 1, depths)
    return ids[mid]


def _chain(start: int, count: int) -> list[int]:
    return [*range(start + 1, start + count), ENDOFCHAIN]


def cfb(tree: Tree) -> bytes:
    """A version 3 compound file (512-byte sectors); streams under 4096 bytes go to the mini stream."""
    entries = [Entry("Root Entry", 5)]

    def add(parent: int, items: Tree) -> None:
        for name, value in items.items():
            entries.append(Entry(name, 2, value) if isinstance(value, bytes) else Entry(name, 1))
            entries[parent].kids.append(len(entries) - 1)
            if not isinstance(value, bytes):
                add(len(entries) - 1, value)

    add(0, tree)
    for entry in entries:
        kids = sorted(entry.kids, key=lambda i: (len(entries[i].name), entries[i].name.upper()))
        depths: dict[int, int] = {}
        entry.child = _sibling_tree(kids, entries, 0, depths)
        # Colour the deepest level red (if below the top): a valid red-black tree, as the spec asks.
        deepest = max(depths.values(), default=0)
        for i, d in depths.items():
            entries[i].red = d == deepest > 0

    mini = bytearray()
    minifat: list[int] = []
    big: list[Entry] = []
    for entry in entries:
        if entry.kind != 2:
            continue
        entry.size = len(entry.data)
        if entry.size >= CUTOFF:
            big.append(entry)
        elif entry.size:
            count = -(-entry.size // MINI_SECTOR)
            entry.start = len(mini) // MINI_SECTOR
            minifat += _chain(entry.start, count)
            mini += entry.data.ljust(count * MINI_SECTOR, b"\0")

    def sectors(size: int) -> int:
        return -(-size // SECTOR)

    n_dir = sectors(len(entries) * 128)
    n_minifat = sectors(len(minifat) * 4)
    n_mini = sectors(len(mini))
    n_data = n_dir + n_minifat + n_mini + sum(sectors(e.size) for e in big)
    n_fat = 1
    while n_fat * (SECTOR // 4) < n_fat + n_data:
        n_fat += 1
    assert n_fat <= 109, "this writer keeps the FAT in the header's DIFAT"

    fat = [FATSECT] * n_fat
    next_sector = n_fat

    def place(count: int) -> int:
        nonlocal next_sector
        start = next_sector
        fat.extend(_chain(start, count))
        next_sector += count
        return start

    dir_start = place(n_dir)
    minifat_start = place(n_minifat) if n_minifat else ENDOFCHAIN
    root = entries[0]
    root.start, root.size = (place(n_mini), len(mini)) if n_mini else (ENDOFCHAIN, 0)
    for entry in big:
        entry.start = place(sectors(entry.size))
    fat += [FREESECT] * (n_fat * SECTOR // 4 - len(fat))

    def dirent(e: Entry | None) -> bytes:
        if e is None:
            return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"", 0, 0, 0, 0, 0)
        raw = e.name.encode("utf-16-le") + b"\0\0"
        assert len(raw) <= 64
        color = 0 if e.red else 1
        return struct.pack(
            "<64sHBBIII16sIQQIQ", raw, len(raw), e.kind, color, e.left, e.right, e.child, b"", 0, 0, 0, e.start, e.size
        )

    directory = b"".join(dirent(e) for e in entries) + dirent(None) * (n_dir * 4 - len(entries))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"",
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"",
        0,
        n_fat,
        dir_start,
        0,
        CUTOFF,
        minifat_start,
        n_minifat,
        ENDOFCHAIN,
        0,
    ) + struct.pack("<109I", *range(n_fat), *[FREESECT] * (109 - n_fat))
    body = [
        struct.pack(f"<{len(fat)}I", *fat),
        directory,
        struct.pack(f"<{len(minifat)}I", *minifat).ljust(n_minifat * SECTOR, b"\xff"),
        bytes(mini).ljust(n_mini * SECTOR, b"\0"),
        *(e.data.ljust(sectors(e.size) * SECTOR, b"\0") for e in big),
    ]
    out = header + b"".join(body)
    assert len(out) == SECTOR * (1 + next_sector)
    return out


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def msg_bytes(*attachments: Tree, subject: str = "Returned audit", sent: datetime | None = None) -> bytes:
    tree: Tree = {"__substg1.0_0037001F": utf16(subject)}
    if sent is not None:
        tree["__properties_version1.0"] = b"\0" * 32 + submit_time(sent)
    for n, streams in enumerate(attachments):
        tree[f"__attach_version1.0_#{n:08X}"] = streams
    return cfb(tree)


def submit_time(when: datetime) -> bytes:
    """A PidTagClientSubmitTime entry of a fixed-size property stream (tag, flags, FILETIME)."""
    ticks = (when - datetime(1601, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 10
    return struct.pack("<IIQ", 0x00390040, 0x6, ticks)


def form_attachment(data: bytes, filename: str = "form.docx") -> Tree:
    return {"__substg1.0_37010102": data, "__substg1.0_3707001F": utf16(filename)}


@pytest.mark.parametrize("size", [700, 9000])  # in the mini stream, and in ordinary sectors
def test_the_cfb_writer_is_read_back_by_olefile(size: int) -> None:
    data = os.urandom(size)
    raw = msg_bytes(form_attachment(data), form_attachment(b"second", "b.docx"))
    with olefile.OleFileIO(raw, raise_defects=olefile.DEFECT_INCORRECT) as ole:
        assert ole.openstream("__attach_version1.0_#00000000/__substg1.0_37010102").read() == data
        name = ole.openstream("__attach_version1.0_#00000000/__substg1.0_3707001F").read()
        assert name.decode("utf-16-le") == "form.docx"
        assert ole.openstream("__substg1.0_0037001F").read() == utf16("Returned audit")
        assert ole.openstream("__attach_version1.0_#00000001/__substg1.0_37010102").read() == b"second"
        assert ole.get_type("__attach_version1.0_#00000001") == olefile.STGTY_STORAGE
        assert not ole.parsing_issues


@pytest.mark.parametrize("size", [700, 9000])
def test_a_msg_yields_its_attachment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.chdir(tmp_path)
    data = os.urandom(size)
    Path("x.msg").write_bytes(msg_bytes(form_attachment(data)))
    assert run(Path("x.msg")) == [Incoming("x.msg!form.docx", data, "x.msg")]


def test_msg_attachment_names_fall_back_to_short_then_display_name(tmp_path: Path) -> None:
    path = tmp_path / "x.msg"
    path.write_bytes(
        msg_bytes(
            {
                "__substg1.0_37010102": b"1",
                "__substg1.0_3704001F": utf16("SHORT~1.DOC"),
                "__substg1.0_3001001F": utf16("d"),
            },
            {"__substg1.0_37010102": b"2", "__substg1.0_3001001F": utf16("Display.docx\0")},
            {"__substg1.0_37010102": b"3", "__substg1.0_3707001E": b"Ansi \xe9.docx"},
            {"__substg1.0_37010102": b"4"},
        )
    )
    assert incoming(run(path)) == {
        f"{path}!SHORT~1.DOC": b"1",
        f"{path}!Display.docx": b"2",
        f"{path}!Ansi é.docx": b"3",
        f"{path}!attachment 4": b"4",
    }


def test_a_msg_expands_an_embedded_message_and_an_attached_zip(tmp_path: Path) -> None:
    embedded: Tree = {
        "__substg1.0_0037001F": utf16("Forwarded"),
        "__attach_version1.0_#00000000": form_attachment(b"inner", "inner.docx"),
    }
    method5 = b"\0" * 8 + struct.pack("<IIQ", 0x37050003, 0x6, 5)
    path = tmp_path / "x.msg"
    path.write_bytes(
        msg_bytes(
            {"__substg1.0_3701000D": embedded, "__properties_version1.0": method5},
            form_attachment(zip_bytes({"z.docx": b"zz"}), "forms.zip"),
        )
    )
    assert incoming(run(path)) == {f"{path}!Forwarded.msg!inner.docx": b"inner", f"{path}!forms.zip!z.docx": b"zz"}


def test_files_from_an_outlook_message_carry_when_it_was_sent(tmp_path: Path) -> None:
    """The message's submit time (a 32-byte property header), an embedded message's own
    (a 24-byte header) for what is attached to that."""
    embedded: Tree = {
        "__substg1.0_0037001F": utf16("Forwarded"),
        "__properties_version1.0": b"\0" * 24 + submit_time(datetime(2026, 11, 30, 16, 5, 7, tzinfo=UTC)),
        "__attach_version1.0_#00000000": form_attachment(b"inner", "inner.docx"),
    }
    method5 = b"\0" * 8 + struct.pack("<IIQ", 0x37050003, 0x6, 5)
    path = tmp_path / "x.msg"
    sent = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    path.write_bytes(
        msg_bytes(
            {"__substg1.0_3701000D": embedded, "__properties_version1.0": method5}, form_attachment(b"top"), sent=sent
        )
    )
    assert {i.name: i.sent_at for i in run(path) if isinstance(i, Incoming)} == {
        f"{path}!Forwarded.msg!inner.docx": datetime(2026, 11, 30, 16, 5, 7, tzinfo=UTC),
        f"{path}!form.docx": sent,
    }
    path.write_bytes(msg_bytes(form_attachment(b"top")))
    assert [i.sent_at for i in run(path) if isinstance(i, Incoming)] == [None]


def test_a_msg_without_attachments_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "x.msg"
    path.write_bytes(msg_bytes())
    [item] = run(path)
    assert isinstance(item, Unreadable) and "no attachments" in item.reason


def test_a_msg_attachment_without_data_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "x.msg"
    path.write_bytes(msg_bytes({"__substg1.0_3707001F": utf16("link.docx")}))
    [item] = run(path)
    assert item == Unreadable(f"{path}!link.docx", str(path), item.reason)
    assert isinstance(item, Unreadable) and "not an attached file" in item.reason


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"From: someone\r\n\r\nnot an Outlook file" * 100, "not an Outlook message"),
        (bytes.fromhex("D0CF11E0A1B11AE1") + os.urandom(3000), "corrupt"),
        (bytes.fromhex("D0CF11E0A1B11AE1") + b"short", "corrupt"),
    ],
)
def test_a_bad_msg_is_unreadable(tmp_path: Path, data: bytes, words: str) -> None:
    path = tmp_path / "x.msg"
    path.write_bytes(data)
    [item] = run(path)
    assert isinstance(item, Unreadable) and words in item.reason and one_line(item.reason)


# -- resources: bounded before anything expensive ---------------------------------------------
#
# Each attack below cost seconds to minutes (or gigabytes) before it was bounded; each is now
# refused, or read, in well under a second.

MB = 1024 * 1024


# Reading a file sizes its buffer to max_file_bytes: where memory is measured, that is small.
SMALL_FILES = SourceLimits(max_file_bytes=2 * MB)


def measured(call: Callable[[], list[Incoming | Unreadable]]) -> tuple[list[Incoming | Unreadable], float, int]:
    """What ``call`` returned, the seconds it took and the peak of the memory it allocated."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        items = call()
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return items, seconds, peak


def timed(call: Callable[[], list[Incoming | Unreadable]]) -> tuple[list[Incoming | Unreadable], float]:
    start = time.perf_counter()
    items = call()
    return items, time.perf_counter() - start


def mime(*parts: bytes) -> bytes:
    """A multipart e-mail of raw parts (each its header lines, a blank line and its body)."""
    return (
        b"From: auditor@example.org\r\nTo: qa@example.org\r\nSubject: Returned audit\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + b"".join(b"--b\r\n" + part + b"\r\n" for part in parts)
        + b"--b--\r\n"
    )


def attached(disposition: bytes = b"attachment; filename=form.docx", body: bytes = b"Zm9ybQ==") -> bytes:
    return (
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: " + disposition + b"\r\n\r\n" + body
    )


def encoded_words(count: int, between: bytes = b" ") -> bytes:
    return between.join(b"=?utf-8?q?%c?=" % (97 + n % 26) for n in range(count))


HOSTILE_HEADERS = {
    # 56 KB: the email package took 0.4 s and 110 MB to parse them, growing with their square
    # (a 0.5 MB e-mail of them: 7 GB).
    "encoded words in a file name": mime(attached(b'attachment; filename="' + encoded_words(4000) + b'"')),
    "a file name folded over 140 KB": mime(
        attached(b'attachment; filename="' + encoded_words(10_000, b"\r\n ") + b'"')
    ),
    "encoded words in an attached e-mail's subject": mime(
        b"Content-Type: message/rfc822\r\n\r\nFrom: a@example.org\r\nSubject: " + encoded_words(4000) + b"\r\n\r\nbody"
    ),
    # Empty parameters: 16 KB of them took 6 s (the package sums lists of defects).
    "semicolons in a Content-Type": mime(b"Content-Type: application/octet-stream" + b";" * 16_000 + b"\r\n\r\nZm9y"),
    "semicolons in a delivery report's second block": mime(
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; example.org\r\n\r\n"
        b"Content-Type: text/plain" + b";" * 16_000
    ),
}


@pytest.mark.parametrize("attack", sorted(HOSTILE_HEADERS))
def test_a_hostile_eml_header_is_refused_before_parsing(tmp_path: Path, attack: str) -> None:
    path = tmp_path / "hostile.eml"
    path.write_bytes(HOSTILE_HEADERS[attack])
    [item], seconds, peak = measured(lambda: run(path, limits=SMALL_FILES))
    assert isinstance(item, Unreadable) and item.name == str(path)
    assert "(a hostile e-mail?)" in item.reason or "; a hostile e-mail?)" in item.reason
    assert one_line(item.reason)
    assert seconds < 1 and peak < 16 * MB, (seconds, peak / MB)


def test_a_refused_header_is_named_with_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "hostile.eml"
    path.write_bytes(HOSTILE_HEADERS["encoded words in a file name"])
    [item] = run(path)
    assert isinstance(item, Unreadable)
    assert item.reason == (
        "e-mail has a Content-Disposition header of 4,000 encoded words (limit 200; a hostile e-mail?); refusing it"
    )


def test_real_headers_are_read_as_before(tmp_path: Path) -> None:
    """A long To: list, a folded non-ASCII file name (RFC 2231, in sections) and an Outlook-like
    Content-Disposition with dates are far from every limit."""
    to = b", ".join(b"=?utf-8?q?J=C3=B6rg_Nr_%d?= <j%d@example.org>" % (n, n) for n in range(600))  # never parsed
    name = b";\r\n ".join(b"filename*%d*=%s" % (n, (b"utf-8''" if n == 0 else b"") + b"%C3%BC" * 20) for n in range(9))
    disposition = (
        b'attachment; filename="Case File Audit.docx"; size=48213;\r\n'
        b' creation-date="Tue, 01 Apr 2025 10:00:00 GMT";\r\n modification-date="Tue, 01 Apr 2025 10:00:00 GMT"'
    )
    data = mime(attached(b"attachment;\r\n " + name), attached(disposition, b"Yg=="))
    path = tmp_path / "real.eml"
    path.write_bytes(data.replace(b"To: qa@example.org", b"To: " + to))
    assert incoming(run(path)) == {f"{path}!{'ü' * 180}": b"form", f"{path}!Case File Audit.docx": b"b"}


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_an_eml_of_thousands_of_parts_is_refused_before_parsing(tmp_path: Path, newline: bytes) -> None:
    """140,000 empty parts in 1 MB took the package 15 s (6 MB of them, a minute); a lone CR
    ends a line for it too."""
    path = tmp_path / "parts.eml"
    path.write_bytes(mime(*[b""] * 140_000).replace(b"\r\n", newline))
    [item], seconds = timed(lambda: run(path))
    assert isinstance(item, Unreadable) and one_line(item.reason)
    assert item.reason.startswith(
        "e-mail has 140,001 parts (limit 16,100 in all, from config/organisation.yaml limits.max_files_per_input)"
    )
    assert seconds < 1


def test_the_part_budget_is_shared_by_the_e_mails_of_a_zip(tmp_path: Path) -> None:
    """A zip of e-mails cannot multiply the parts one input may hold (8 per file, and 100)."""
    mail = mime(attached(), *[b""] * 69)  # 71 lines starting "--"
    path = tmp_path / "mails.zip"
    path.write_bytes(zip_bytes({"a.eml": mail, "b.eml": mail, "c.eml": mail}))
    items = run(path, limits=SourceLimits(max_members=10))  # 180 parts
    assert list(incoming(items)) == [f"{path}!a.eml!form.docx", f"{path}!b.eml!form.docx"]
    assert "e-mail has 71 parts (limit 180 in all" in unreadable(items)[f"{path}!c.eml"]


def test_an_eml_of_very_many_header_lines_is_refused(tmp_path: Path) -> None:
    """Header lines cost the package a list entry each (a million: 2.5 s and 170 MB): one input
    may have 128 per file it may hold, and 4,096."""
    path = tmp_path / "lines.eml"
    path.write_bytes(mime(attached()).replace(b"MIME-Version", b"X-A: 1\r\n" * 200_000 + b"MIME-Version"))
    [item], seconds = timed(lambda: run(path, limits=SourceLimits(max_members=100)))
    assert isinstance(item, Unreadable) and one_line(item.reason)
    assert "e-mail headers run to more than 16,896 lines in all (limit from config/organisation.yaml" in item.reason
    assert seconds < 1


def test_the_separators_of_parsed_headers_are_budgeted(tmp_path: Path) -> None:
    """Each separator in a Content-Type costs the package some 30 microseconds: one input may
    have 64 per file it may hold, and 4,096 (here 4,736), in the headers it parses."""
    dense = b"attachment; filename=form.docx" + b"; p=v" * 200  # 600 separators: under 1,024
    path = tmp_path / "dense.eml"
    path.write_bytes(mime(*[attached(dense)] * 10))
    [item], seconds = timed(lambda: run(path, limits=SourceLimits(max_members=10)))
    assert isinstance(item, Unreadable) and one_line(item.reason)
    assert "more than 4,736 parameters and separators in all" in item.reason
    assert seconds < 1


def megabyte_forms(count: int) -> bytes:
    """A zip of distinct members of exactly 1 MB: at the threshold of the per-member ratio check."""
    return zip_bytes({f"form{n}.docx": n.to_bytes(4, "little") + bytes(MB - 4) for n in range(count)})


@pytest.mark.parametrize("wrapped", ["zip", "zip in a zip", "zip in an e-mail"])
def test_a_zip_unpacking_far_beyond_its_size_is_a_zip_bomb(tmp_path: Path, wrapped: str) -> None:
    """40 MB of forms from 45 KB: each was read (and archived by ingest; 490 of them made
    514 MB of 0.57 MB).  One input unpacks to at most 20 times its size, or 16 MB."""
    bomb = megabyte_forms(40)
    assert len(bomb) < 50_000
    if wrapped == "zip":
        path, data, inner = tmp_path / "bomb.zip", bomb, ""
    elif wrapped == "zip in a zip":
        path, data, inner = tmp_path / "outer.zip", zip_bytes({"bomb.zip": bomb}, zipfile.ZIP_STORED), "!bomb.zip"
    else:
        path, data, inner = tmp_path / "mail.eml", email_with(("bomb.zip", bomb)).as_bytes(), "!bomb.zip"
    path.write_bytes(data)
    [item], seconds, peak = measured(lambda: run(path, limits=SMALL_FILES))
    assert isinstance(item, Unreadable) and item.name == f"{path}{inner}"
    assert item.reason.startswith(
        "zip archive would unpack to 40 MB, more than 20 times the size of the file it came in"
    )
    assert "(a zip bomb?)" in item.reason and one_line(item.reason)
    assert seconds < 1 and peak < 16 * MB, (seconds, peak / MB)


def test_a_small_zip_of_forms_may_unpack_to_16_mb(tmp_path: Path) -> None:
    path = tmp_path / "forms.zip"
    path.write_bytes(megabyte_forms(16))
    assert len(incoming(run(path))) == 16


def test_a_msg_of_too_many_entries_is_refused_before_olefile_reads_them(tmp_path: Path) -> None:
    """olefile checks each stream against all those before it as it opens a file: 24,000
    entries took 12 s (and the attachments were looked up by path, each among all)."""
    path = tmp_path / "many.msg"
    path.write_bytes(msg_bytes(*({"__substg1.0_37010102": b"x"} for _ in range(12_000))))
    [item], seconds = timed(lambda: run(path))
    assert isinstance(item, Unreadable) and one_line(item.reason)
    assert item.reason.startswith("Outlook message has more than 17,000 entries inside (limit 17,000 a message")
    assert "config/organisation.yaml limits.max_files_per_input" in item.reason
    assert seconds < 1


def embedded_message(number: int) -> Tree:
    method5 = b"\0" * 8 + struct.pack("<IIQ", 0x37050003, 0x6, 5)
    inner: Tree = {
        "__substg1.0_0037001F": utf16(f"Forwarded {number}"),
        "__attach_version1.0_#00000000": form_attachment(b"%d" % number, f"{number}.docx"),
    }
    return {"__substg1.0_3701000D": inner, "__properties_version1.0": method5}


@pytest.mark.parametrize(
    "attachments",
    [
        [form_attachment(b"%d" % n, f"{n}.docx") for n in range(2000)],  # took 2.2 s
        [embedded_message(n) for n in range(1000)],  # took 2.3 s: all paths scanned for each
    ],
    ids=["2000 attachments", "1000 embedded messages"],
)
def test_a_msg_of_many_attachments_is_read_in_linear_time(tmp_path: Path, attachments: list[Tree]) -> None:
    path = tmp_path / "many.msg"
    path.write_bytes(msg_bytes(*attachments))
    items, seconds = timed(lambda: run(path))
    assert len(incoming(items)) == len(attachments) and not unreadable(items)
    assert seconds < 1


def test_the_outlook_entry_budget_is_shared_by_the_messages_of_a_zip(tmp_path: Path) -> None:
    """A zip of messages cannot multiply the entries one input may hold (128 per file, and 1,000)."""
    message = msg_bytes(*(form_attachment(b"x") for _ in range(300)))  # room for 904 entries
    path = tmp_path / "messages.zip"
    path.write_bytes(zip_bytes({"a.msg": message, "b.msg": message, "c.msg": message}))
    reasons = unreadable(run(path, limits=SourceLimits(max_members=10)))  # 1,080 a message, 2,280 in all
    assert "more than 10 attachments" in reasons[f"{path}!a.msg"]
    assert "more than 10 attachments" in reasons[f"{path}!b.msg"]
    assert reasons[f"{path}!c.msg"].startswith("Outlook message has more than 472 entries inside")


# -- nothing raises for bad input -----------------------------------------------------------------


def _samples() -> dict[str, bytes]:
    mail = email_with(("a.docx", b"a" * 300), ("b.zip", zip_bytes({"c.docx": b"c" * 300})))
    return {
        "s.zip": zip_bytes({"a.docx": b"a" * 500, "n.zip": zip_bytes({"b.docx": b"b" * 500})}),
        "s.eml": mail.as_bytes(),
        "s.msg": msg_bytes(form_attachment(b"m" * 700), form_attachment(b"n" * 5000, "n.docx")),
    }


SAMPLES = _samples()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(SAMPLES)),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=4)), max_size=8),
    cut=st.floats(0.05, 1),
)
def test_mutated_inputs_never_raise(name: str, edits: list[tuple[float, bytes]], cut: float) -> None:
    raw = bytearray(SAMPLES[name])
    for where, patch in edits:
        at = int(where * len(raw))
        raw[at : at + len(patch)] = patch
    raw = raw[: max(1, int(len(raw) * cut))]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(bytes(raw))
        items = list(expand([path], SourceLimits(max_file_bytes=100_000, max_total_bytes=1_000_000)))
    assert items
    for item in items:
        assert isinstance(item, Incoming | Unreadable)
        if isinstance(item, Unreadable):
            assert item.reason and one_line(item.reason)
