"""Text → WordprocessingML runs, keeping every character a user can type."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

# XML 1.0 forbids most C0 controls; Word writes \x0b for a manual line break in some
# exports.  Lone surrogates cannot be encoded at all.
_DROP = re.compile("[\x00-\x08\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: object) -> str:
    """Normalise user data for XML: newlines to \\n, vertical tab to newline, drop the
    control characters XML cannot hold, replace lone surrogates."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n")
    text = _DROP.sub("", text)
    return _SURROGATE.sub("\ufffd", text)


def attr(value: str) -> str:
    """A quoted XML attribute value."""
    return quoteattr(clean_text(value), {"\n": "&#10;", "\t": "&#9;"})


def runs_inner(text: str) -> str:
    """The inside of a ``<w:r>`` for text with newlines and tabs: w:t, w:br, w:tab."""
    out: list[str] = []
    for i, line in enumerate(clean_text(text).split("\n")):
        if i:
            out.append("<w:br/>")
        for j, piece in enumerate(line.split("\t")):
            if j:
                out.append("<w:tab/>")
            if piece:
                out.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return "".join(out)


def run(text: str, rpr: str = "") -> str:
    return f"<w:r>{rpr}{runs_inner(text)}</w:r>"


def paragraph(text: str, style: str | None = None, ppr_extra: str = "") -> str:
    ppr = ""
    if style or ppr_extra:
        ppr = "<w:pPr>" + (f'<w:pStyle w:val="{style}"/>' if style else "") + ppr_extra + "</w:pPr>"
    return f"<w:p>{ppr}{run(text) if text else ''}</w:p>"
