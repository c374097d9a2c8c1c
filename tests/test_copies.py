"""Evidence copied from another audit of the month: the index finds what comparing with
every text finds, and ingest keeps it in step with the store as a batch goes on (new
returns, amendments, other ingests, returns committed out of order on PostgreSQL)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.returns.copies import MonthEvidence
from auditdocs.returns.ingest import Ingester
from auditdocs.returns.validate import CopyIndex, shingles, similarity, words
from auditdocs.sample.answers import AUDIT_DATE, complete_values
from auditdocs.workspace import Workspace
from tests.conftest import blank_form, month_workspace
from tests.test_store import _pg_database

NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)
VOCABULARY = [f"w{n}" for n in range(12)]  # few words: texts overlap often, at every degree


def brute_force(texts: dict[str, list[str]], own: str, threshold: float, exclude: str | None) -> set[str]:
    """Every audit holding a text at least ``threshold`` like ``own``: the old way."""
    mine = shingles(words(own))
    return {
        audit_id
        for audit_id, theirs in texts.items()
        for text in theirs
        if audit_id != exclude and len(words(text)) >= 10 and similarity(mine, shingles(words(text))) >= threshold
    }


class Reordered(CopyIndex):
    """The index counting its order from the second text on: every replace rebuilds it."""

    _FIRST_ORDERING = 2


text_st = st.lists(st.sampled_from(VOCABULARY), min_size=10, max_size=40).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.dictionaries(st.sampled_from([f"A{n}" for n in range(8)]), st.lists(text_st, max_size=3), max_size=8),
    own=text_st,
    edits=st.lists(st.tuples(st.integers(0, 39), st.sampled_from(VOCABULARY)), max_size=4),
    threshold=st.sampled_from([0.3, 0.5, 0.6, 0.75, 0.8, 0.9, 1.0]),
    exclude=st.sampled_from([None, "A0", "A1"]),
    kind=st.sampled_from([CopyIndex, Reordered]),
)
def test_the_index_finds_what_comparing_with_every_text_finds(texts, own, edits, threshold, exclude, kind):
    # A near copy of a held text, when there is one, so that matches are common.
    held = [t for theirs in texts.values() for t in theirs]
    if held:
        tokens = held[len(own) % len(held)].split()
        for at, word in edits:
            tokens[at % len(tokens)] = word
        own = " ".join(tokens)
    index = kind.of(texts, threshold)
    expected = brute_force(texts, own, threshold, exclude)
    found = index.source(shingles(words(own)), exclude=exclude)
    if not expected:
        assert found is None
    else:
        mine = shingles(words(own))
        best = max(similarity(mine, shingles(words(t))) for a in expected for t in texts[a])
        assert found in expected
        assert max(similarity(mine, shingles(words(t))) for t in texts[found]) == best


def test_a_replaced_audits_old_evidence_is_no_longer_found():
    text = " ".join(f"word{n}" for n in range(30))
    index = CopyIndex.of({"A": [text]}, 0.8)
    assert index.source(shingles(words(text))) == "A"
    index.replace("A", ["something else entirely, written again for the amended return today"])
    assert index.source(shingles(words(text))) is None
    assert len(index) == 1


def test_a_month_of_texts_sharing_stock_phrases_is_indexed_in_order_of_rarity():
    """Past the first count, the runs of words many texts share come last: they are not
    what a text is looked up by, and what is found is still what comparing finds."""
    rng = random.Random(5)
    stock = "the child was seen alone and the plan was reviewed"
    texts = {f"A{n}": [f"{stock} " + " ".join(rng.choice(VOCABULARY) + str(rng.randrange(50)) for _ in range(12))]
             for n in range(200)}
    index = CopyIndex.of(texts, 0.8)
    common = shingles(words(stock))
    assert all(index._rank[hash(s)] >= 64 for s in common)  # counted at 64 and at 128 texts
    for audit_id in ("A3", "A150"):
        text = texts[audit_id][0]
        assert not set(index._prefix(frozenset(map(hash, shingles(words(text)))))) & set(map(hash, common))
        assert index.source(shingles(words(text))) == audit_id
        assert index.source(shingles(words(text)), exclude=audit_id) is None
    index.replace("A3", [])
    assert index.source(shingles(words(texts["A3"][0]))) is None and len(index) == 199


def test_short_texts_are_not_held():
    index = CopyIndex.of({"A": ["No concerns.", ""]}, 0.8)
    assert len(index) == 0 and index.source(shingles(words("No concerns."))) is None


def evidence(seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(["visit", "plan", "school", "review", "child", "worker", "home", "safety"]) + str(n)
                    for n in range(40))


def returned(ws: Workspace, folder: Path, audit_id: str, plans: str, seed: int = 0) -> Path:
    values = complete_values(AUDIT_DATE)
    for n, key in enumerate(k for k in values if k.endswith(".evidence")):
        values[key] = evidence(hash((audit_id, key)) % 10_000 + 10_000 * seed + n)  # its own words
    values["domain.plans.evidence"] = plans
    path = folder / f"{audit_id}-{seed}.docx"
    path.write_bytes(fill_form(blank_form(ws, audit_id), values, WordStyle(seed=seed)))
    return path


def copied(outcome) -> list[str]:
    return [f.message for f in outcome.findings if f.rule == "evidence.copied"]


@pytest.fixture
def ws(tmp_path, monkeypatch) -> Workspace:
    monkeypatch.setenv("AUDITDOCS_DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
    return month_workspace(tmp_path / "qa")


def test_a_batch_flags_each_copy_of_the_current_evidence_only(ws, tmp_path):
    """Within one batch: a copy of a return stored earlier in the batch is flagged; after
    that return's amendment replaces its evidence, a copy of the old evidence is not."""
    first, amended = evidence(1), evidence(2)
    files = [
        returned(ws, tmp_path, "2026-11-001", first),
        returned(ws, tmp_path, "2026-11-002", first),  # copies 001
        returned(ws, tmp_path, "2026-11-001", amended, seed=1),  # 001 amended
        returned(ws, tmp_path, "2026-11-003", first),  # copies 001's old evidence: no longer current
        returned(ws, tmp_path, "2026-11-004", amended),  # copies 001's amendment
    ]
    outcomes = Ingester(ws).run(files, received_at=NOW).outcomes
    assert [o.version for o in outcomes] == [1, 1, 2, 1, 1]
    flagged = [copied(o) for o in outcomes]
    assert flagged[0] == []
    assert len(flagged[1]) == 1 and "(2026-11-001)" in flagged[1][0]
    assert flagged[2] == []  # its earlier version is not another audit
    assert len(flagged[3]) == 1 and "(2026-11-002)" in flagged[3][0]  # 002 still holds the text
    assert len(flagged[4]) == 1 and "(2026-11-001)" in flagged[4][0]


def test_returns_stored_by_another_ingest_are_seen(ws, tmp_path):
    """Two ingests on one store (two people, or two workers): each sees what the other stored."""
    one, other = Ingester(ws), Ingester(ws)
    text = evidence(7)
    assert copied(one.run([returned(ws, tmp_path, "2026-11-001", evidence(8))], received_at=NOW).outcomes[0]) == []
    assert copied(other.run([returned(ws, tmp_path, "2026-11-002", text)], received_at=NOW).outcomes[0]) == []
    outcome = one.run([returned(ws, tmp_path, "2026-11-003", text)], received_at=NOW).outcomes[0]
    assert len(copied(outcome)) == 1 and "(2026-11-002)" in copied(outcome)[0]


@pytest.fixture
def pg_url():
    yield from _pg_database()


def test_a_return_committed_after_a_later_numbered_one_is_still_seen(pg_url, tmp_path, monkeypatch):
    """PostgreSQL numbers a return before it commits: a return numbered n may commit after
    n + 1 has been indexed.  The index must not pass it over."""
    monkeypatch.setenv("AUDITDOCS_DATABASE_URL", pg_url)
    ws = month_workspace(tmp_path / "qa")
    slow, fast, early, late = Ingester(ws), Ingester(ws), Ingester(ws), Ingester(ws)
    text = evidence(11)
    early.copies.index("2026-11")  # an ingest already going when the slow one starts
    # The slow ingest stores its return inside a transaction it holds open...
    store = slow.store
    with store.transaction() as conn:
        receipt = store.record_receipt(
            conn, sha256="1" * 64, name="held.docx", origin="inbox", received_at=NOW, outcome="accepted",
            audit_id="2026-11-001",
        )
        values = {f"domain.{d}.evidence": evidence(100 + n) for n, d in enumerate(("visits", "assessment"))}
        values["domain.plans.evidence"] = text
        store.record_submission(
            conn, receipt_id=receipt, audit_id="2026-11-001", document="audit", sha256="1" * 64, received_at=NOW,
            status="accepted", late=False, urgent=False, converted_from=None, config_version="c",
            template_version="t", resubmit_by=None, values=values, found=[],
        )
        # ...while another stores a later-numbered one, and two more ingests look at the month.
        fast.run([returned(ws, tmp_path, "2026-11-002", evidence(12))], received_at=NOW)
        for reader in (early, late):
            assert reader.copies.index("2026-11").source(shingles(words(text))) is None
    # Committed now, numbered below what both have seen: their next returns still meet it.
    for n, reader in enumerate((early, late), 3):
        outcome = reader.run([returned(ws, tmp_path, f"2026-11-00{n}", text)], received_at=NOW).outcomes[0]
        assert len(copied(outcome)) == 1 and "(2026-11-001)" in copied(outcome)[0], n


def test_the_index_reads_only_what_is_new(ws, tmp_path):
    """After the month's first return, each later one reads only the returns stored since."""
    files = [returned(ws, tmp_path, f"2026-11-{n:03d}", evidence(20 + n)) for n in range(1, 7)]
    ingester = Ingester(ws)
    read: list[int] = []
    values_of = ingester.store.values_of

    def counting(ids, suffix=""):
        ids = list(ids)
        read.append(len(ids))
        return values_of(ids, suffix)

    ingester.store.values_of = counting  # type: ignore[method-assign]
    ingester.run(files, received_at=NOW)
    assert read == [1, 1, 1, 1, 1]  # the month's first read found nothing
    assert isinstance(ingester.copies, MonthEvidence)
