"""The quarterly learning bulletin for staff (framework section 8): themes from what
auditors wrote, the domains most often below Good, anonymised quotes by case reference.

A theme is a phrase of two or three words (not starting or ending with a common word,
within one clause) that auditors used in at least two audits; phrases are counted once
per audit.  A phrase never holds an identifier: case references, child ids, anything
with a digit, the names the store knows and titled names ("Mrs Smith") break the text
where they stand.  Each quote is shown under one theme only: themes take their quotes
in order (the most frequent first), each the quote most its own (holding fewest of the
other frequent phrases) not already taken; a theme whose every quote is taken is the
same finding as one already shown, and is left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from auditdocs.reports.content import (
    HONORIFIC,
    Block,
    Document,
    Heading,
    Para,
    Table,
    anonymise,
    clean,
    short_quote,
    uk,
)
from auditdocs.reports.data import Audit, ReportData
from auditdocs.reports.sections import domain_concern_rows
from auditdocs.reports.stats import good_or_better, quarter_stats, share

MAX_THEMES = 6
#: How many of a theme's audits are looked at for its quote, how many of the most
#: frequent phrases a quote is compared with, and how many phrases are tried as themes
#: (bounded work over 10,000 audits).
QUOTE_AUDITS = 50
RIVALS = 60
CANDIDATES = 500
QUOTE_WORDS = 30
_WORD = re.compile(r"[a-z][a-z'’-]*[a-z]|[a-z]")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
#: The pieces of a text (lower case): where a phrase cannot run on (punctuation between
#: clauses, brackets, quotation marks, a dash), a token holding a digit, or a word.
#: Only a word is captured (a break gives ""): findall then returns strings, not tuples.
_PIECE = re.compile(r"[.!?;:,()\[\]{}\"“”/|…]|\s[-–—]+\s|[\w'-]*\d[\w'-]*|([a-z][a-z'-]*[a-z]|[a-z])")
#: A role put in a quote in place of a name ("[worker]"): not the writer's words.
_ROLE = re.compile(r"\[[^\]]*\]")
#: A token of dashes only: a break between clauses when spaces stand either side.
_DASHES = re.compile(r"[-–—]+")
#: What every titled name (``HONORIFIC``) starts with: texts without any are not searched
#: (looked for by one pattern: a search per title cost more than the rest of a short text).
_TITLES = ("Mr", "Ms", "Mx", "Dr", "Miss")
_TITLED = re.compile("|".join(_TITLES))
_STOP = """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours there's it's is there
    were been this that which within without via per one two three four five six seven eight nine ten each
    every many much well made make makes seen see given gave get got also however although whilst though
"""
STOPWORDS = frozenset(_STOP.split())
#: Words every audit uses: a phrase made only of these and stopwords says nothing.
_GENERIC = """case file audit audits auditor period time month months date dates week weeks january february march
    april may june july august september october november december"""
GENERIC = frozenset(_GENERIC.split())
_TRIVIAL = STOPWORDS | GENERIC


@dataclass(frozen=True)
class Theme:
    phrase: str
    audits: list[Audit]
    quote: str
    case_reference: str


def identifiers(data: ReportData) -> frozenset[str]:
    """Words that may not be part of a theme: the letters of case references and child
    ids ("nb" of NB-26007) and the parts of the names of workers, team managers and
    auditors, of every audit reported and every audit they re-audit."""
    found = data.cache.get("identifiers")
    if found is None:
        found = data.cache["identifiers"] = _identifiers(data)
    return found


def _identifiers(data: ReportData) -> frozenset[str]:
    refs: set[str] = set()
    names: set[str] = set()
    for a in [*data.audits, *data.earlier.values()]:
        refs.update((a.case_reference, a.child_id))
        names.update((a.worker, a.team_manager, a.auditor))
    words: set[str] = set()
    for ref in refs:  # each distinct text read once: many audits share a worker or a team manager
        words.update(w for w in _WORD.findall(clean(ref).lower()) if w not in STOPWORDS)
    for name in names:
        words.update(w for w in _WORD.findall(clean(name).lower()) if len(w) >= 2 and w not in STOPWORDS)
    return frozenset(words)


def _texts(data: ReportData, audit: Audit, kind: str, ranks: dict[str, int]) -> list[str]:
    """What an audit says about good practice (kind 'good') or development (``ranks``:
    each grade's rank)."""
    field = "overall.good_practice" if kind == "good" else "overall.development"
    out = [audit.text(field) or ""]
    for d in data.domains_of(audit.tool):
        rank = ranks.get(audit.grade(d.id) or "")
        if rank is None:
            continue
        if (rank >= data.good_rank) == (kind == "good"):
            out.append(audit.text(f"domain.{d.id}.evidence") or "")
    return [clean(t) for t in out if t]


def _runs(text: str, banned: frozenset[str]) -> list[list[str]]:
    """The text as runs of words, broken at clause punctuation, at anything holding a
    digit (a case reference, a child id, a date) and at every identifier word."""
    runs: list[list[str]] = []
    run: list[str] = []
    plain = HONORIFIC.sub(" | ", text)
    if "[" in plain:
        plain = _ROLE.sub(" | ", plain)
    for word in _PIECE.findall(plain.lower().replace("’", "'")):
        if word and word not in banned:
            run.append(word)
        elif run:
            runs.append(run)
            run = []
    runs.append(run)
    return [r for r in runs if len(r) >= 2]


def _phrases(text: str, ids: frozenset[str]) -> set[str]:
    """The text's phrases of two and three words, neither first nor last a stopword and
    not all of them stopwords or words every audit uses."""
    out: set[str] = set()
    add = out.add
    for words in _runs(text, ids):
        stop = [w in STOPWORDS for w in words]
        trivial = [w in _TRIVIAL for w in words]
        last = len(words) - 1
        for i in range(last):
            if stop[i]:
                continue
            if not stop[i + 1] and not (trivial[i] and trivial[i + 1]):
                add(f"{words[i]} {words[i + 1]}")
            if i + 1 < last and not stop[i + 2] and not (trivial[i] and trivial[i + 1] and trivial[i + 2]):
                add(f"{words[i]} {words[i + 1]} {words[i + 2]}")
    return out


class _Words(dict[str, tuple[int, ...]]):
    """Texts as sequences of word numbers (0: a break), read token by token: a text is
    split at whitespace and each distinct token read once by ``_PIECE`` (no piece but a
    run of dashes spans whitespace, and that one is a break), so what ``_runs`` finds is
    found, in one pass of the text and a dictionary look-up per token (this dictionary:
    token -> its word numbers)."""

    def __init__(self, banned: frozenset[str]) -> None:
        super().__init__()
        self.banned = banned
        self.number: dict[str, int] = {}
        self.words: list[str] = [""]

    def __missing__(self, token: str) -> tuple[int, ...]:
        if _DASHES.fullmatch(token):
            pieces: tuple[int, ...] = (0,)  # spaces either side (a text's first or last token: no matter)
        else:
            pieces = tuple(self._word(w) for w in _PIECE.findall(token))
        self[token] = pieces
        return pieces

    def _word(self, word: str) -> int:
        if not word or word in self.banned:
            return 0
        found = self.number.get(word)
        if found is None:
            found = self.number[word] = len(self.words)
            self.words.append(word)
        return found

    def sequence(self, text: str, into: list[int]) -> None:
        """Append the text's word numbers to ``into``, then a break."""
        plain = text
        if _TITLED.search(plain):
            plain = HONORIFIC.sub(" | ", plain)
        if "[" in plain:
            plain = _ROLE.sub(" | ", plain)
        into.extend(chain.from_iterable(map(self.__getitem__, plain.lower().replace("’", "'").split())))
        into.append(0)


def _frequent(
    audits: Sequence[Audit], texts: dict[str, list[str]], ids: frozenset[str]
) -> tuple[dict[str, list[Audit]], list[str]]:
    """The ``CANDIDATES`` most frequent phrases (``_phrases``) of at least two audits,
    ranked, and the audits saying each (in order).  Counted with numpy over word numbers:
    each audit's texts as one sequence, a phrase a number made from its words, each
    (audit, phrase) counted once; only the candidates are made into text."""
    words = _Words(ids)
    seq: list[int] = []
    lengths: list[int] = []
    for audit in audits:
        before = len(seq)
        for text in dict.fromkeys(texts[audit.audit_id]):
            words.sequence(text, seq)
        lengths.append(len(seq) - before)
    n = len(words.words)
    if n**3 >= 2**62:  # phrase numbers would not fit in 64 bits (millions of distinct words)
        return _frequent_by_sets(audits, texts, ids)
    w = np.asarray(seq, dtype=np.int64)
    owner = np.repeat(np.arange(len(audits), dtype=np.int64), lengths)
    stop = np.fromiter((x in STOPWORDS for x in words.words), dtype=bool, count=n)
    trivial = np.fromiter((x in _TRIVIAL for x in words.words), dtype=bool, count=n)
    stop[0] = True  # a break: no phrase starts or ends there
    a, b, c = w[:-2], w[1:-1], w[2:]  # every text ends with a break: the last pair is no phrase
    starts = ~stop[a] & (b != 0)
    two = starts & ~stop[b] & ~(trivial[a] & trivial[b])
    three = starts & (c != 0) & ~stop[c] & ~(trivial[a] & trivial[b] & trivial[c])
    # a phrase as one number: two words -(x*n + y) - 1, three (x*n + y)*n + z
    codes = np.concatenate([-(a[two] * n + b[two]) - 1, (a[three] * n + b[three]) * n + c[three]])
    whose = np.concatenate([owner[:-2][two], owner[:-2][three]])
    phrases, phrase = np.unique(codes, return_inverse=True)
    size = max(len(phrases), 1)
    pairs = np.sort(whose * size + phrase.reshape(-1))  # (audit, phrase) as one number, each once
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))] if len(pairs) else pairs
    said, who = pairs % size, pairs // size
    count = np.bincount(said, minlength=len(phrases))
    frequent = np.flatnonzero(count >= 2)
    if len(frequent) > CANDIDATES:  # only those that can rank among the first CANDIDATES
        floor = np.sort(count[frequent])[-CANDIDATES]
        frequent = frequent[count[frequent] >= floor]

    def text_of(code: int) -> str:
        if code < 0:
            x, y = divmod(-code - 1, n)
            return f"{words.words[x]} {words.words[y]}"
        xy, z = divmod(code, n)
        x, y = divmod(xy, n)
        return f"{words.words[x]} {words.words[y]} {words.words[z]}"

    df = {text_of(int(phrases[p])): int(count[p]) for p in frequent}
    ranked = sorted(df, key=lambda p: (-df[p], -len(p.split()), p))[:CANDIDATES]
    index = {text_of(int(phrases[p])): int(p) for p in frequent}
    order = np.argsort(said, kind="stable")  # audits in order within each phrase
    first = np.searchsorted(said[order], np.arange(len(phrases) + 1))
    where = {p: [audits[i] for i in who[order[first[index[p]] : first[index[p] + 1]]]] for p in ranked}
    return where, ranked


def _frequent_by_sets(
    audits: Sequence[Audit], texts: dict[str, list[str]], ids: frozenset[str]
) -> tuple[dict[str, list[Audit]], list[str]]:
    """``_frequent`` by the definition: each text's ``_phrases``, a set per audit."""
    known: dict[str, set[str]] = {}
    df: Counter[str] = Counter()
    where: dict[str, list[Audit]] = {}
    for a in audits:
        said: set[str] = set()
        for text in texts[a.audit_id]:
            phrases = known.get(text)
            if phrases is None:
                phrases = known[text] = _phrases(text, ids)
            said |= phrases
        df.update(said)
        for phrase in said:
            where.setdefault(phrase, []).append(a)
    ranked = sorted((p for p, n in df.items() if n >= 2), key=lambda p: (-df[p], -len(p.split()), p))[:CANDIDATES]
    return {p: where[p] for p in ranked}, ranked


def themes(data: ReportData, kind: str, limit: int = MAX_THEMES) -> list[Theme]:
    """The most frequent phrases of good practice (kind 'good') or development."""
    key = ("themes", kind, limit)
    if key not in data.cache:
        data.cache[key] = _themes(data, kind, limit)
    return data.cache[key]


def known_themes(data: ReportData, kind: str, found: list[Theme], limit: int = MAX_THEMES) -> None:
    """Take ``found`` as ``themes(data, kind, limit)``: worked out elsewhere (a report's
    helper process) from the same data."""
    data.cache[("themes", kind, limit)] = found


def _themes(data: ReportData, kind: str, limit: int) -> list[Theme]:
    audits = [a for a in data.audits if a.graded]
    ids = identifiers(data)
    ranks = {g.id: g.rank for g in data.grades}
    texts = {a.audit_id: _texts(data, a, kind, ranks) for a in audits}
    where, ranked = _frequent(audits, texts, ids)
    sentences: dict[str, list[tuple[str, set[str]]]] = {}

    def sentences_of(audit: Audit) -> list[tuple[str, set[str]]]:
        """The audit's sentences, each as its quote and its phrases (worked out once)."""
        if audit.audit_id not in sentences:
            split = [s for t in texts[audit.audit_id] for s in _SENTENCE.split(t)]
            quotes = [short_quote(anonymise(s, audit), QUOTE_WORDS) for s in split]
            # the phrases of the quote as shown: a long sentence is cut, and what is cut says nothing
            sentences[audit.audit_id] = [(f"“{q}”", found) for q in quotes if (found := _phrases(q, ids))]
        return sentences[audit.audit_id]

    rivals = set(ranked[:RIVALS])
    taken: set[str] = set()
    out: list[Theme] = []
    for phrase in ranked[:CANDIDATES]:
        # "trusting relationship" and "a trusting relationship with" are one theme
        if any(phrase in t.phrase or t.phrase in phrase for t in out):
            continue
        found = _quote(phrase, where[phrase][:QUOTE_AUDITS], sentences_of, rivals, taken)
        if found is None:
            continue  # every sentence saying it is already quoted for a theme before it
        quote, source = found
        taken.add(quote)
        out.append(Theme(phrase, where[phrase], quote, clean(source.case_reference)))
        if len(out) == limit:
            break
    return out


def _quote(
    phrase: str,
    audits: Iterable[Audit],
    sentences_of: Callable[[Audit], list[tuple[str, set[str]]]],
    rivals: set[str],
    taken: set[str],
) -> tuple[str, Audit] | None:
    """The quote for a theme: of the sentences whose quote holds the phrase and is not yet
    taken, the one holding fewest other frequent phrases (the first such)."""
    best: tuple[int, str, Audit] | None = None
    for audit in audits:
        for quote, phrases in sentences_of(audit):
            if phrase not in phrases or quote in taken:
                continue
            score = len((phrases & rivals) - {phrase})
            if best is None or score < best[0]:
                best = (score, quote, audit)
    return None if best is None else (best[1], best[2])


def themes_table(data: ReportData, kind: str) -> list[Block]:
    found = themes(data, kind)
    title = "Themes in good practice" if kind == "good" else "Themes for development"
    return [
        Heading(title, 2),
        Table(
            ["Theme", "Audits", "Example", "Case"],
            [[t.phrase, str(len(t.audits)), t.quote, t.case_reference] for t in found],
            caption=title,
            empty="No phrase appeared in more than one audit.",
        ),
    ]


def bulletin_document(data: ReportData, quarter: str) -> Document:
    quarter_figures = quarter_stats(data)
    stats, period, total = quarter_figures.months, quarter_figures.period, quarter_figures.overall
    doc = Document(
        kind="bulletin",
        title=f"Learning from audits: {quarter}",
        subtitle=f"A learning bulletin for practitioners and managers, {period}",
        period=period,
        organisation=data.organisation,
        service=data.service,
    )
    good, graded = good_or_better(total, data)
    others = Counter(a.tool for a in data.audits if a.returned and a.tool != data.reaudit_tool)
    also = "; ".join(f"{t.title} ({others[t.id]})" for t in data.other_tools(data.audits) if others[t.id])
    doc.add(
        Para(
            f"From {period}, {sum(s.returned for s in stats)} case file audits were returned; {good} of {graded} "
            f"graded ({share(good, graded)}) were Good or better overall."
            + (f" Other audits returned: {also}." if also else "")
            + " This bulletin shares what auditors found: what good practice looks like here, and where we need "
            "to improve. Cases are named by case reference only."
        )
    )
    rows = domain_concern_rows(data, stats)
    strongest = sorted(rows, key=lambda r: (r[1] / r[2] if r[2] else 1, r[0]))[:3]
    doc.add(Heading("Where practice is strongest"))
    doc.add(
        *[
            Para(f"{t}: {g - n} of {g} audits Good or better ({share(g - n, g)}).", "bullet")
            for t, n, g in strongest
            if g
        ]
    )
    doc.add(Heading("Where we need to improve"))
    doc.add(
        *[
            Para(f"{t}: {n} of {g} audits graded Requires Improvement or Inadequate ({share(n, g)}).", "bullet")
            for t, n, g in rows[:3]
            if n
        ]
    )
    for kind, title in (("good", "Good practice we saw"), ("development", "What we need to do better")):
        doc.add(Heading(title))
        found = themes(data, kind)
        if not found:
            doc.add(Para("No phrase appeared in more than one audit this quarter.", "note"))
        for t in found:
            doc.add(Para(f"“{t.phrase}”, in {len(t.audits)} audits", "bullet"))
            doc.add(Para(f"{t.quote} ({t.case_reference})", "quote"))
    doc.add(
        Heading("What to do next"),
        Para(
            "Talk about these themes in team meetings and supervision. Team managers: check the improvement "
            "plans of your team's audits are on track, and that the practitioner discussion is recorded "
            f"on the child's file. Figures as at {uk(data.as_of)}."
        ),
    )
    return doc
