"""The quarterly learning bulletin for staff (framework section 8): themes from what
auditors wrote, the domains most often below Good, anonymised quotes by case reference.

A theme is a phrase of two or three words (not starting or ending with a common word)
that auditors used in at least two audits; phrases are counted once per audit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from auditdocs.reports.content import Block, Document, Heading, Para, Table, anonymise, clean, short_quote, uk
from auditdocs.reports.data import Audit, ReportData
from auditdocs.reports.sections import domain_concern_rows
from auditdocs.reports.stats import good_or_better, quarter_stats, share

MAX_THEMES = 6
_WORD = re.compile(r"[a-z][a-z'’-]*[a-z]|[a-z]")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
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


@dataclass(frozen=True)
class Theme:
    phrase: str
    audits: list[Audit]
    quote: str
    case_reference: str


def _texts(data: ReportData, audit: Audit, kind: str) -> list[str]:
    """What an audit says about good practice (kind 'good') or development."""
    field = "overall.good_practice" if kind == "good" else "overall.development"
    out = [audit.text(field) or ""]
    for d in data.domains_of(audit.tool):
        rank = data.rank(audit.grade(d.id))
        if rank is None:
            continue
        if (rank >= data.good_rank) == (kind == "good"):
            out.append(audit.text(f"domain.{d.id}.evidence") or "")
    return [clean(t) for t in out if t]


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.lower().replace("’", "'")))


def _phrases(text: str) -> set[str]:
    words = _words(text).split()
    out = set()
    for n in (2, 3):
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if gram[0] in STOPWORDS or gram[-1] in STOPWORDS:
                continue
            if all(w in STOPWORDS or w in GENERIC for w in gram):
                continue
            out.add(" ".join(gram))
    return out


def themes(data: ReportData, kind: str, limit: int = MAX_THEMES) -> list[Theme]:
    """The most frequent phrases of good practice (kind 'good') or development."""
    key = ("themes", kind, limit)
    if key not in data.cache:
        data.cache[key] = _themes(data, kind, limit)
    return data.cache[key]


def _themes(data: ReportData, kind: str, limit: int) -> list[Theme]:
    audits = [a for a in data.audits if a.graded]
    texts = {a.audit_id: _texts(data, a, kind) for a in audits}
    df: Counter[str] = Counter()
    where: dict[str, list[Audit]] = {}
    for a in audits:
        for phrase in set().union(*[_phrases(t) for t in texts[a.audit_id]]) if texts[a.audit_id] else set():
            df[phrase] += 1
            where.setdefault(phrase, []).append(a)
    ranked = sorted((p for p, n in df.items() if n >= 2), key=lambda p: (-df[p], -len(p.split()), p))
    chosen: list[str] = []
    for phrase in ranked:
        # "trusting relationship" and "a trusting relationship with" are one theme
        if any(phrase in c or c in phrase for c in chosen):
            continue
        chosen.append(phrase)
        if len(chosen) == limit:
            break
    out = []
    for phrase in chosen:
        source = where[phrase][0]
        sentence = next(
            (s for t in texts[source.audit_id] for s in _SENTENCE.split(t) if f" {phrase} " in f" {_words(s)} "),
            next((t for t in texts[source.audit_id] if f" {phrase} " in f" {_words(t)} "), phrase),
        )
        out.append(
            Theme(
                phrase, where[phrase], f"“{short_quote(anonymise(sentence, source), 30)}”", clean(source.case_reference)
            )
        )
    return out


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
