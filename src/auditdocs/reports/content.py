"""A report as a list of blocks (headings, paragraphs, tables, charts), built once and
rendered alike into Word (``word.py``) and HTML (``html.py``), so both show the same
charts and tables.

Every text that came from a returned form is cleaned (control characters dropped),
shortened to a quote, stripped of the names the store knows (worker, team manager,
auditor, child id) and referenced by case reference: reports never name a child.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from auditdocs.dates import uk_date
from auditdocs.reports.data import Audit
from auditdocs.text import without_bidi

#: XML 1.0 cannot hold these; Word and browsers have no use for them either.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SPACE = re.compile(r"\s+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
#: A titled name ("Mrs Smith"): a person, whoever they are.
HONORIFIC = re.compile(r"\b(Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+[A-Z][\w'’-]+")


def clean(text: object) -> str:
    """One line of text safe for XML and HTML: control characters and bidirectional
    controls dropped, tabs, vertical tabs and newlines turned into spaces, runs of spaces
    collapsed."""
    raw = "" if text is None else str(text)
    if raw.isprintable() and "  " not in raw and not raw.startswith(" ") and not raw.endswith(" "):
        return raw  # the usual text: nothing to drop (every character removed or spaced is unprintable)
    raw = raw.replace("\x0b", " ").replace("\t", " ")
    return _SPACE.sub(" ", _CONTROL.sub("", without_bidi(raw))).strip()


def anonymise(text: str, audit: Audit) -> str:
    """Replace the people the store names for this case by roles and its child id by
    "[child id]"; titled surnames ("Mrs Smith") become "[name]".  A child's first name
    typed in the evidence cannot be known here: quotes are short and QA reviews the report.

    A name's pattern is compiled and run only where the text holds the name (a report
    quotes thousands of audits, each with a child id of its own, and few quotes name
    anyone): as it is written, or for the child id in any case (``_folded``)."""
    out = text
    child_id = audit.child_id.strip()
    if len(child_id) >= 3 and _folded(child_id) in _folded(out):
        out = _word(child_id, re.IGNORECASE).sub("[child id]", out)
    people = [(audit.worker, "[worker]"), (audit.team_manager, "[team manager]"), (audit.auditor, "[auditor]")]
    for name, role in people:
        for part in _parts(name):
            if part in out:
                out = _word(part).sub(role, out)
    return HONORIFIC.sub("[name]", out)


#: ``re.IGNORECASE`` takes I, i, İ and ı for one another, which ``str.casefold`` does not.
_DOTTED_I = str.maketrans({"I": "i", "İ": "i", "ı": "i"})


def _folded(text: str) -> str:
    """``text`` with case folded so that whatever ``re.IGNORECASE`` matches in it, the
    folded pattern is found in the folded text (character by character: every pair of
    characters it takes for one another folds alike; checked in the tests over every
    character).  Text in ASCII, most of it, is only lower-cased: the same, sooner."""
    return text.lower() if text.isascii() else text.translate(_DOTTED_I).casefold()


@functools.lru_cache(maxsize=8192)
def _word(text: str, flags: int = 0) -> re.Pattern[str]:
    """``text`` as a whole word (compiled once: a report anonymises thousands of quotes,
    more names than ``re``'s own cache holds)."""
    return re.compile(rf"(?<!\w){re.escape(text)}(?!\w)", flags)


@functools.lru_cache(maxsize=8192)
def _parts(name: str) -> tuple[str, ...]:
    """A name and its words of three letters or more, longest first."""
    return tuple(p for p in sorted({name, *name.split()}, key=len, reverse=True) if len(p) >= 3)


def short_quote(text: str, words: int = 35) -> str:
    """The first sentences of a text, up to about ``words`` words (cut with … if longer)."""
    text = clean(text)
    out: list[str] = []
    count = 0
    for sentence in _SENTENCE.split(text):
        n = len(sentence.split())
        if out and count + n > words:
            break
        out.append(sentence)
        count += n
    quote = " ".join(out)
    if len(quote.split()) > words:
        quote = " ".join(quote.split()[:words]).rstrip(",;:") + " …"
    return quote


def quote_of(audit: Audit, text: str, words: int = 35) -> str:
    return f"“{short_quote(anonymise(clean(text), audit), words)}”"


def uk(day: date | datetime | None, missing: str = "–") -> str:
    return uk_date(day) if day is not None else missing


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Para:
    text: str
    style: str = "text"  # text | bullet | quote | note


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""
    empty: str = "None."


@dataclass(frozen=True)
class Chart:
    title: str
    png: bytes
    alt: str


Block = Heading | Para | Table | Chart


@dataclass
class Document:
    """A report: what the Word template and the HTML page are filled with."""

    kind: str  # monthly | quarterly | bulletin
    title: str
    subtitle: str
    period: str
    organisation: str
    service: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def charts(self) -> list[Chart]:
        return [b for b in self.blocks if isinstance(b, Chart)]
