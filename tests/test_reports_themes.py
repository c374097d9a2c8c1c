"""The bulletin's phrase counting (issue 15): counted with numpy over word numbers, it
finds what the definition finds (each text's ``_phrases``, a set per audit), on distinct
evidence as people write it and on any text hypothesis makes up.  Quotes are anonymised as
by running every name's pattern on every text, though a pattern runs only on texts that
hold its name."""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import random
import re
import sys
from datetime import date
from re import _casefix  # type: ignore[attr-defined]

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditdocs.reports import bulletin, content
from auditdocs.reports.bulletin import _frequent, _frequent_by_sets, _phrases, _texts, _Words
from auditdocs.reports.content import clean
from auditdocs.reports.data import Audit, DomainInfo, GradeInfo, ReportData, ToolInfo

GRADES = [
    GradeInfo("outstanding", "Outstanding", 4),
    GradeInfo("good", "Good", 3),
    GradeInfo("requires_improvement", "Requires Improvement", 2),
    GradeInfo("inadequate", "Inadequate", 1),
]
DOMAINS = tuple(DomainInfo(d, d.title()) for d in ("visits", "voice", "plan", "oversight"))
SAID = (
    "the child's voice is clear in every record and the plan has measurable actions with named owners; "
    "visits were purposeful, direct work with the child was thorough, management oversight is evident "
    "but the chronology is out of date, the school's view is missing, no analysis of the history, "
    "Mrs Smith the social worker (Sam Able) and team manager Jo Bloggs agreed - a trusting relationship "
    "— with the family: NB-26007, X123456, 12/03/2026, co-working, re-referral, well-being, self-harm"
)
VOCABULARY = SAID.split()
PHRASES = ["a trusting relationship with the family", "the child's voice is clear", "chronology is out of date",
           "management oversight is thorough", "visits were purposeful", "direct work with the child"]  # fmt: skip


def _data(texts: list[list[str]]) -> ReportData:
    """Audits saying ``texts`` (overall good practice, then each domain's evidence)."""
    audits = []
    for n, said in enumerate(texts):
        values: dict[str, object] = {"overall.grade": "good", "overall.good_practice": said[0]}
        for d, text in zip(DOMAINS, said[1:], strict=False):
            values[f"domain.{d.id}.grade"] = "good"
            values[f"domain.{d.id}.evidence"] = text
        audits.append(Audit(f"2026-11-{n:05d}", "2026-11", "cfa", f"NB-{n:05d}", "Team A", f"Sam Able{n % 3}",
                            "Jo Bloggs", "Kim Auditor", date(2026, 11, 30), "accepted", versions=1,
                            current_status="accepted", values=values, child_id=f"X{n:06d}"))  # fmt: skip
    tools = {"cfa": ToolInfo("cfa", "Case file audit", DOMAINS)}
    return ReportData(months=["2026-11"], audits=audits, grades=GRADES, not_applicable=GradeInfo("na", "N/A", 0),
                      domains=list(DOMAINS), good_rank=3, as_of=date(2026, 12, 1), organisation="Org",
                      service="Service", reaudit_tool="cfa", tools=tools)  # fmt: skip


def _both(data: ReportData) -> tuple[object, object]:
    audits = [a for a in data.audits if a.graded]
    ranks = {g.id: g.rank for g in data.grades}
    texts = {a.audit_id: _texts(data, a, "good", ranks) for a in audits}
    ids = bulletin.identifiers(data)
    return _frequent(audits, texts, ids), _frequent_by_sets(audits, texts, ids)


def _text(rng: random.Random) -> str:
    return f"{rng.choice(PHRASES).capitalize()}. " + " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(5, 30)))


def test_distinct_evidence_gives_the_same_phrases_counts_and_audits_as_the_definition():
    rng = random.Random(15)
    data = _data([[_text(rng) for _ in range(5)] for _ in range(600)])
    fast, slow = _both(data)
    assert fast == slow
    assert len(fast[1]) == bulletin.CANDIDATES  # more than CANDIDATES phrases: the cut is tested too


def test_the_themes_quotes_and_counts_are_those_of_the_definition(monkeypatch: pytest.MonkeyPatch):
    rng = random.Random(8)
    texts = [[_text(rng) for _ in range(5)] for _ in range(300)]
    fast = bulletin.themes(_data(texts), "good")
    monkeypatch.setattr(bulletin, "_frequent", _frequent_by_sets)
    assert bulletin.themes(_data(texts), "good") == fast
    assert fast


#: Text as anyone may type it: words, digits, dashes, brackets, titles, other scripts and spaces.
PIECES = st.sampled_from(
    ["care", "plan", "child's", "child’s", "voice", "self-harm", "-", "--", " – ", "—", "Mr", "Mrs Smith", "Dr.",
     "[worker]", "[", "]", "x1", "2026", "_", "a_b", "café", "İstanbul", ",", ".", ";", "(", ")", "“", "…", "'", "’",
     "Sam", "Able", "Jo", "\u00a0", "\u2003", " ", "  ", "\n", "the", "with", "case", "audit", "ÆR", "ß", "e\u0301"]
)  # fmt: skip
TEXT = st.lists(PIECES | st.text(max_size=4), max_size=30).map(lambda parts: clean(" ".join(parts)))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(TEXT, min_size=1, max_size=3), min_size=1, max_size=4))
def test_any_text_gives_what_the_definition_gives(texts: list[list[str]]):
    fast, slow = _both(_data(texts + texts))  # each said twice: every phrase is counted and compared
    assert fast == slow


@settings(max_examples=300)
@given(TEXT)
def test_a_texts_word_numbers_hold_its_phrases(text: str):
    ids = frozenset({"sam", "able", "jo"})
    words = _Words(ids)
    seq: list[int] = []
    words.sequence(text, seq)
    found = set()
    for i in range(len(seq) - 1):
        for n in (2, 3):
            part = seq[i : i + n]
            if len(part) == n and all(part):
                found.add(" ".join(words.words[w] for w in part))
    assert _phrases(text, ids) <= found  # every phrase is a run of words in the sequence


# --- anonymising quotes: a name's pattern only run where the text holds the name --------


def _anonymise_always(text: str, audit: Audit) -> str:
    """The definition: every name's pattern run on every text."""
    out = text
    if len(audit.child_id.strip()) >= 3:
        out = content._word(audit.child_id.strip(), re.IGNORECASE).sub("[child id]", out)
    people = [(audit.worker, "[worker]"), (audit.team_manager, "[team manager]"), (audit.auditor, "[auditor]")]
    for name, role in people:
        for part in content._parts(name):
            out = content._word(part).sub(role, out)
    return content.HONORIFIC.sub("[name]", out)


def test_whatever_ignorecase_takes_for_a_character_folds_alike():
    """``_folded``'s premise, over every character: two characters ``re.IGNORECASE`` takes
    for one another (the same simple lower case, or one of re's extra cases) fold alike, so
    a case-insensitive match is always found in the folded text first."""
    classes: dict[int, set[int]] = {}
    for cp in range(sys.maxunicode + 1):
        if not 0xD800 <= cp <= 0xDFFF:
            classes.setdefault(_sre.unicode_tolower(cp), set()).add(cp)
    for lower, members in classes.items():
        together = set(members)
        for extra in _casefix._EXTRA_CASES.get(lower, ()):
            together |= classes.get(_sre.unicode_tolower(extra), {extra})
        assert len({content._folded(chr(c)) for c in together}) == 1, sorted(map(hex, together))


NAMED = st.sampled_from(
    ["X123456", "x123456", "X123456a", "aX123456", "ĪX1", "ix1", "İX1", "ıx1", "IX1", "ſt9", "ST9", "K\u212a9", "kk9",
     "Sam Able", "sam able", "Sam", "Able", "Ablest", "Jo Bloggs", "Jo", "Bloggs", "Kim Auditor", "Mrs Smith",
     "Dr. Who", "the", "plan", " ", ".", "-", "(", ")", "’", "_", "\u00a0"]
)  # fmt: skip


@settings(max_examples=500)
@given(st.tuples(st.lists(NAMED | st.text(max_size=3), max_size=12), st.sampled_from(["", " "])).map(
           lambda parts: parts[1].join(parts[0])),
       st.sampled_from(["X123456", "IX1", "ıx1", "ST9", "kk9", "ab", "", " X123456 "]),
       st.sampled_from(["Sam Able", "Jo", "Kim Auditor", "İlker Işık", "Ablest"]))  # fmt: skip
def test_a_quote_is_anonymised_as_by_running_every_names_pattern(text: str, child_id: str, worker: str):
    audit = Audit("2026-11-001", "2026-11", "cfa", "NB-1", "Team A", worker, "Jo Bloggs", "Kim Auditor",
                  date(2026, 11, 30), "accepted", child_id=child_id)  # fmt: skip
    assert content.anonymise(text, audit) == _anonymise_always(text, audit)
