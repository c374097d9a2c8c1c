"""Helpers for tests that change a package by hand, the way a careless editor would."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from lxml import etree

from auditdocs.ooxml import namespaces as ns

W = ns.W


def q(tag: str) -> str:
    return f"{{{W}}}{tag}"


def rezip(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    """Copy a package with some parts replaced (None removes a part)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in src.namelist():
            if name in changes:
                if changes[name] is not None:
                    z.writestr(name, changes[name])
            else:
                z.writestr(name, src.read(name))
        for name, raw in changes.items():
            if name not in src.namelist() and raw is not None:
                z.writestr(name, raw)
    return out.getvalue()


def edit_part(data: bytes, name: str, edit: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read(name))
    edit(root)
    return rezip(data, {name: etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)})


def edit_document(data: bytes, edit: Callable[[etree._Element], None]) -> bytes:
    return edit_part(data, "word/document.xml", edit)


def control(root: etree._Element, field_id: str) -> etree._Element:
    for sdt in root.iter(q("sdt")):
        tag = sdt.find(f"{q('sdtPr')}/{q('tag')}")
        if tag is not None and tag.get(q("val")) == field_id:
            return sdt
    raise KeyError(field_id)
