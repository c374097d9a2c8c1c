"""Write a zip package from parts that are mostly compressed already.

Static parts of a template are deflated once per tool type; per case only the
rendered segments are compressed.  A part may be several raw-deflate segments: each
ends on a byte boundary (``Z_SYNC_FLUSH``) and only the last carries the final block,
so the segments concatenate into one valid deflate stream.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01: reproducible output
_DOS_TIME = 0
_LEVEL = 6


def deflate(data: bytes, final: bool = True) -> bytes:
    comp = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


@dataclass(frozen=True)
class Segment:
    """Uncompressed bytes with their non-final deflate stream, for reuse in many files."""

    raw: bytes
    deflated: bytes

    @classmethod
    def of(cls, raw: bytes) -> Segment:
        return cls(raw, deflate(raw, final=False))


@dataclass(frozen=True)
class Part:
    name: str
    crc: int
    size: int
    deflated: bytes

    @classmethod
    def of(cls, name: str, raw: bytes) -> Part:
        return cls(name, zlib.crc32(raw), len(raw), deflate(raw))

    @classmethod
    def join(cls, name: str, pieces: list[bytes | Segment]) -> Part:
        """A part made of freshly rendered bytes and pre-deflated segments."""
        crc, size, out = 0, 0, []
        comp = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
        for piece in pieces:
            raw = piece.raw if isinstance(piece, Segment) else piece
            crc = zlib.crc32(raw, crc)
            size += len(raw)
            if isinstance(piece, Segment):
                out.append(comp.flush(zlib.Z_SYNC_FLUSH))
                out.append(piece.deflated)
                comp = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
            else:
                out.append(comp.compress(raw))
        out.append(comp.flush(zlib.Z_FINISH))
        return cls(name, crc, size, b"".join(out))


def zip_bytes(parts: list[Part]) -> bytes:
    """The whole zip archive as bytes (no zip64: parts are small)."""
    body: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for part in parts:
        name = part.name.encode("utf-8")
        # version needed, UTF-8 names, deflated, time, date, CRC-32, sizes, name length
        common = (20, 0x0800, 8, _DOS_TIME, _DOS_DATE, part.crc, len(part.deflated), part.size, len(name))
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, *common, 0)
        # central: made by, the common fields, no extra/comment/disk/internal attributes,
        # owner-only permissions, where the local header is
        central.append(
            struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *common, 0, 0, 0, 0, 0o600 << 16, offset) + name
        )
        body += [local, name, part.deflated]
        offset += len(local) + len(name) + len(part.deflated)
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(directory), offset, 0)
    return b"".join(body) + directory + end
