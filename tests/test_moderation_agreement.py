"""Moderation statistics (issue 16): a synthetic quarter with disagreements placed by hand,
every figure checked against an independent calculation written here (counts by hand,
Krippendorff's alpha from its coincidence matrix, the bootstrap replayed), the calculation
itself checked against the published examples of Krippendorff (2011) "Computing
Krippendorff's Alpha-Reliability"; properties by hypothesis; the report's blocks and
worksheet rows."""

from __future__ import annotations

import random
from fractions import Fraction
from itertools import permutations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditdocs import dates
from auditdocs.errors import InternalError
from auditdocs.moderation.agreement import (
    MIN_N,
    RESAMPLES,
    SEED,
    Agreement,
    Pair,
    agreement,
    bootstrap_alphas,
    by_item,
    by_month,
    by_quarter,
    calibration,
    calibration_label,
    ordinal_alpha,
    quarter_of,
)
from auditdocs.reports.content import Chart, Document, Heading, Para, Table
from auditdocs.reports.html import render_html
from auditdocs.reports.moderation import (
    AGREEMENT_HEADER,
    CALIBRATION_HEADER,
    CHANGED_HEADER,
    SHEET_AGREEMENT_HEADER,
    ChangedGrade,
    calibration_sheet_rows,
    changed_sheet_rows,
    moderation_blocks,
    moderation_figures,
    moderation_sheet_rows,
    moderation_sheet_tables,
    period_label,
)

# --- the independent calculation -------------------------------------------------------


def scratch_alpha(units, metric="ordinal"):
    """Krippendorff's alpha as Krippendorff (2011) computes it, in exact fractions: the
    coincidence matrix o_ck (each ordered pair of values within a unit of m values counts
    1/(m-1)), n_c its margins, and alpha = 1 - (n-1) * sum o_ck d2_ck / sum n_c n_k d2_ck.
    Ordinal d2_ck = (sum of n_g for g from c to k - (n_c + n_k)/2)^2. None if undefined."""
    units = [u for u in units if len(u) >= 2]
    values = sorted({v for u in units for v in u})
    if len(values) < 2:
        return None
    o = {(c, k): Fraction(0) for c in values for k in values}
    for u in units:
        for i, j in permutations(range(len(u)), 2):
            o[u[i], u[j]] += Fraction(1, len(u) - 1)
    n_c = {c: sum(o[c, k] for k in values) for c in values}
    n = sum(n_c.values())

    def d2(c, k):
        if metric == "nominal":
            return Fraction(c != k)
        if metric == "interval":
            return Fraction((c - k) ** 2)
        if metric == "ratio":
            return Fraction(c - k, c + k) ** 2
        low, high = min(c, k), max(c, k)
        return (sum(n_c[g] for g in values if low <= g <= high) - (n_c[c] + n_c[k]) / 2) ** 2

    observed = sum(o[c, k] * d2(c, k) for c in values for k in values)
    expected = sum(n_c[c] * n_c[k] * d2(c, k) for c in values for k in values)
    return 1 - (n - 1) * observed / expected


def units_of(pairs):
    return [(p.auditor_rank, p.moderator_rank) for p in pairs]


# Krippendorff (2011), section C: four observers, twelve units, values 1-5, missing values
# (the "C" data of R's irr/DescTools kripp.alpha too).  Published: nominal .743, ordinal
# .815, interval .849, ratio .797.
_ = None
KRIPPENDORFF_C = [
    (1, 1, _, 1), (2, 2, 3, 2), (3, 3, 3, 3), (3, 3, 3, 3), (2, 2, 2, 2), (1, 2, 3, 4),
    (4, 4, 4, 4), (1, 1, 2, 1), (2, 2, 2, 2), (_, 5, 5, 5), (_, _, 1, 1), (_, 3, _, _),
]  # fmt: skip
KRIPPENDORFF_C = [tuple(v for v in unit if v is not None) for unit in KRIPPENDORFF_C]


def test_the_independent_calculation_gives_krippendorffs_published_values():
    assert round(float(scratch_alpha(KRIPPENDORFF_C, "nominal")), 3) == 0.743
    assert round(float(scratch_alpha(KRIPPENDORFF_C, "ordinal")), 3) == 0.815
    assert round(float(scratch_alpha(KRIPPENDORFF_C, "interval")), 3) == 0.849
    assert round(float(scratch_alpha(KRIPPENDORFF_C, "ratio")), 3) == 0.797
    # sections A and B: two observers, binary (published .095) and nominal (.692) data
    binary = list(zip([0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0], strict=True))
    assert round(float(scratch_alpha(binary, "nominal")), 3) == 0.095
    nominal = list(zip("aabbdcccedda", "babbbcccedd" + "d", strict=True))
    codes = {c: n for n, c in enumerate("abcde", 1)}
    assert round(float(scratch_alpha([(codes[a], codes[b]) for a, b in nominal], "nominal")), 3) == 0.692


def test_the_library_alpha_gives_krippendorffs_published_ordinal_value():
    value = ordinal_alpha(KRIPPENDORFF_C)
    assert value is not None and round(value, 3) == 0.815
    assert value == pytest.approx(float(scratch_alpha(KRIPPENDORFF_C)), abs=1e-12)
    # a unit with one value (the others missing) is not pairable: it changes nothing
    assert ordinal_alpha([*KRIPPENDORFF_C, (2,)]) == pytest.approx(value, abs=1e-12)
    assert ordinal_alpha([(2, 2), (2, 2)]) is None
    assert ordinal_alpha([]) is None


# --- a synthetic quarter with known disagreements ---------------------------------------

DOMAINS = [
    ("assessment", "Assessment"), ("planning", "Planning"), ("voice", "Voice of the child"),
    ("management", "Management oversight"), ("outcomes", "Outcomes"),
]  # fmt: skip
ITEMS = [d for d, _ in DOMAINS] + ["overall"]
MONTHS = ["2026-10", "2026-11", "2026-12"]
GENEROUS, HARSH, IN_LINE_1, IN_LINE_2 = "Alder Quince", "Daphne Quince", "Birch Quince", "Cedar Quince"
#: The moderator's ranks of each audit: the five domains, then overall (1 Inadequate .. 4
#: Outstanding); the generous auditor's audits are moderated 1-3, the harsh one's 2-4.
MODERATOR = {
    GENEROUS: [[2, 1, 3, 2, 2, 2], [3, 2, 2, 3, 1, 2], [1, 2, 2, 1, 2, 1], [3, 3, 2, 2, 3, 3],
               [2, 3, 1, 2, 2, 2], [2, 2, 3, 3, 2, 3]],
    IN_LINE_1: [[1, 2, 1, 2, 1, 2], [4, 3, 4, 4, 3, 4], [3, 3, 2, 3, 3, 3], [2, 1, 2, 2, 2, 2],
                [3, 4, 3, 3, 4, 3], [2, 2, 1, 2, 2, 2]],
    IN_LINE_2: [[3, 2, 3, 3, 3, 3], [1, 1, 2, 1, 1, 1], [4, 4, 3, 4, 4, 4], [2, 3, 2, 2, 3, 2],
                [3, 3, 4, 3, 3, 3], [3, 2, 3, 2, 3, 3]],
    HARSH: [[3, 4, 3, 2, 3, 3], [2, 2, 3, 3, 2, 2], [4, 3, 4, 3, 3, 4], [3, 3, 2, 4, 3, 3],
            [2, 3, 3, 2, 4, 3], [4, 4, 3, 3, 3, 4]],
}  # fmt: skip
#: The generous auditor grades every item one grade above the moderator, the harsh one one
#: below; the two in line agree except for these four grades.
OFFSET = {GENEROUS: 1, HARSH: -1, IN_LINE_1: 0, IN_LINE_2: 0}
AUDITORS = [GENEROUS, IN_LINE_1, IN_LINE_2, HARSH]


def audit_id(auditor: str, n: int) -> str:
    """Two audits per auditor per month: n 0-5 (month n // 2)."""
    return f"{MONTHS[n // 2]}-{AUDITORS.index(auditor) * 2 + n % 2 + 1:03d}"


EXCEPTIONS = {
    (audit_id(IN_LINE_1, 0), "overall"): 3,  # October, moderator 2: one grade above
    (audit_id(IN_LINE_1, 2), "planning"): 1,  # November, moderator 3: two grades below
    (audit_id(IN_LINE_2, 0), "assessment"): 4,  # October, moderator 3: one grade above
    (audit_id(IN_LINE_2, 5), "overall"): 1,  # December, moderator 3: two grades below
}


def quarter_pairs() -> list[Pair]:
    out = []
    for auditor, audits in MODERATOR.items():
        for n, ranks in enumerate(audits):
            aid = audit_id(auditor, n)
            for item, rank in zip(ITEMS, ranks, strict=True):
                mine = EXCEPTIONS.get((aid, item), rank + OFFSET[auditor])
                out.append(Pair(aid, MONTHS[n // 2], auditor, item, mine, rank))
    return out


PAIRS = quarter_pairs()


def test_the_synthetic_quarter_is_as_designed():
    assert len(PAIRS) == 24 * 6 and len({p.audit_id for p in PAIRS}) == 24
    assert all(1 <= p.auditor_rank <= 4 and 1 <= p.moderator_rank <= 4 for p in PAIRS)
    for (aid, item), rank in EXCEPTIONS.items():
        (p,) = [p for p in PAIRS if p.audit_id == aid and p.item == item]
        assert p.auditor_rank == rank and abs(p.auditor_rank - p.moderator_rank) in (1, 2)
    assert {p.month for p in PAIRS} == set(MONTHS)


# Counted by hand: the generous and the harsh auditor's 12 audits are one grade off on every
# item (never exact, always within one); the in-line auditors' 12 agree but for EXCEPTIONS.
EXPECTED = {  # item: (n, exact, within one)
    "assessment": (24, 11, 24),  # one in-line grade a grade above
    "planning": (24, 11, 23),  # one in-line grade two below
    "voice": (24, 12, 24),
    "management": (24, 12, 24),
    "outcomes": (24, 12, 24),
    "overall": (24, 10, 23),  # one a grade above, one two below
}


def test_exact_and_within_one_per_item_as_counted_by_hand():
    figures = by_item(PAIRS, resamples=200)
    assert list(figures) == ITEMS
    for item, (n, exact, within) in EXPECTED.items():
        a = figures[item]
        assert (a.n, a.audits, a.exact, a.within_one) == (n, n, exact, within), item
        assert a.exact_share == pytest.approx(exact / n) and a.within_one_share == pytest.approx(within / n)
    pooled = agreement(PAIRS, resamples=200)
    assert (pooled.n, pooled.audits, pooled.exact, pooled.within_one) == (144, 24, 68, 142)


def test_by_month_as_counted_by_hand():
    months = by_month(PAIRS)
    assert list(months) == MONTHS
    overall = {m: agreement([p for p in ps if p.item == "overall"]) for m, ps in months.items()}
    # each month: 8 audits, 4 of them in line; October one a grade above, December one two below
    assert [(a.n, a.exact, a.within_one) for a in overall.values()] == [(8, 3, 8), (8, 4, 8), (8, 3, 7)]
    for a in overall.values():
        assert a.alpha is None and a.ci is None
        assert a.note == (
            f"Too few moderated audits (n=8) for a reliable Krippendorff's alpha: at least {MIN_N} are needed."
        )
    assert list(by_quarter(PAIRS)) == ["2026Q4"]


def test_alpha_per_item_and_pooled_equals_the_coincidence_matrix_calculation():
    figures = by_item(PAIRS, resamples=200)
    for item in ITEMS:
        expected = scratch_alpha(units_of([p for p in PAIRS if p.item == item]))
        assert figures[item].alpha == pytest.approx(float(expected), abs=1e-12), item
    pooled = agreement(PAIRS, resamples=200)
    assert pooled.alpha == pytest.approx(float(scratch_alpha(units_of(PAIRS))), abs=1e-12)
    # the figures themselves, to three places, for the reader of this test
    expected = {"assessment": 0.706, "planning": 0.614, "voice": 0.660, "management": 0.665, "outcomes": 0.613,
                 "overall": 0.537}  # fmt: skip
    assert {item: round(figures[item].alpha, 3) for item in ITEMS} == expected
    assert round(pooled.alpha, 3) == 0.630


def replayed_interval(pairs, resamples, seed):
    """The bootstrap replayed with the independent alpha: audits (sorted by id) drawn with
    replacement by numpy's generator from ``seed``, each with all its units; resamples with
    one value only left out; the 2.5th and 97.5th percentiles."""
    audits = sorted({p.audit_id for p in pairs})
    units = {a: [(p.auditor_rank, p.moderator_rank) for p in pairs if p.audit_id == a] for a in audits}
    draws = np.random.default_rng(seed).integers(0, len(audits), size=(resamples, len(audits)))
    values = []
    for draw in draws:
        value = scratch_alpha([u for i in draw for u in units[audits[i]]])
        if value is not None:
            values.append(float(value))
    return tuple(float(x) for x in np.percentile(values, [2.5, 97.5])), len(values)


@pytest.mark.parametrize("item", ["overall", "planning", None])
def test_the_interval_is_the_bootstrap_over_audits_replayed(item):
    pairs = [p for p in PAIRS if item is None or p.item == item]
    resamples = 300 if item is None else 600
    a = agreement(pairs, resamples=resamples)
    interval, used = replayed_interval(pairs, resamples, SEED)
    assert a.ci == pytest.approx(interval, abs=1e-9) and a.resamples == used
    assert a.ci[0] <= a.alpha <= a.ci[1]


def test_every_resample_alpha_is_the_librarys():
    """The bootstrap's vectorised alpha against krippendorff.alpha, resample by resample:
    the quarter pooled (several units per audit), one item, units of three values and one."""
    rng = np.random.default_rng(7)
    cases = []
    for pairs in (PAIRS, [p for p in PAIRS if p.item == "planning"]):
        audits = sorted({p.audit_id for p in pairs})
        counts = np.zeros((len(pairs), 4), dtype=np.int64)
        for row, p in enumerate(pairs):
            counts[row, p.auditor_rank - 1] += 1
            counts[row, p.moderator_rank - 1] += 1
        cases.append((counts, np.array([audits.index(p.audit_id) for p in pairs]), len(audits)))
    units = list(KRIPPENDORFF_C)  # two to four values a unit, and a unit of one
    counts = np.array([[u.count(v) for v in range(1, 6)] for u in units], dtype=np.int64)
    cases.append((counts, np.arange(len(units)) // 2, (len(units) + 1) // 2))
    for counts, audit_of, audits in cases:
        draws = rng.integers(0, audits, size=(60, audits))
        fast = bootstrap_alphas(counts, audit_of, draws)
        for draw, value in zip(draws, fast, strict=True):
            rows = np.concatenate([np.flatnonzero(audit_of == a) for a in draw])
            picked = counts[rows]
            if np.count_nonzero(picked.sum(axis=0)) < 2:
                assert np.isnan(value)
                continue
            library = krippendorff.alpha(value_counts=picked, level_of_measurement="ordinal")
            assert value == pytest.approx(library, abs=1e-12)


def test_the_interval_is_reproducible_and_seeded():
    overall = [p for p in PAIRS if p.item == "overall"]
    shuffled = overall[:]
    random.Random(3).shuffle(shuffled)
    first, again = agreement(overall), agreement(shuffled)
    assert first == again and first.resamples == RESAMPLES
    other = agreement(overall, seed=SEED + 1)
    assert other.alpha == first.alpha and other.ci != first.ci


def test_calibration_per_auditor():
    cal = calibration(PAIRS)
    assert [(c.auditor, c.n, c.higher, c.lower, c.label) for c in cal] == [
        (GENEROUS, 6, 6, 0, "more generous"),
        (IN_LINE_1, 6, 1, 0, "in line"),  # +1 once: mean +1/6
        (IN_LINE_2, 6, 0, 1, "in line"),  # -2 once: mean -2/6
        (HARSH, 6, 0, 6, "harsher"),
    ]
    assert [c.mean_difference for c in cal] == pytest.approx([1, 1 / 6, -2 / 6, -1])
    # every item: the in-line auditors both at -1/36 (+1 and -2 over 36 grades), in name order
    every = calibration(PAIRS, item=None)
    assert [(c.auditor, c.n) for c in every] == [(GENEROUS, 36), (IN_LINE_1, 36), (IN_LINE_2, 36), (HARSH, 36)]
    assert every[1].mean_difference == every[2].mean_difference == pytest.approx(-1 / 36)
    assert calibration(PAIRS, item="voice")[1].mean_difference == 0


def test_calibration_rule_at_its_boundaries():
    assert calibration_label(1, 2) == "more generous"  # +0.5: half a grade
    assert calibration_label(-1, 2) == "harsher"
    assert calibration_label(1, 3) == calibration_label(-1, 3) == "in line"
    assert calibration_label(0, 0) == "in line"
    assert calibration_label(2, 4) == "more generous" and calibration_label(-3, 6) == "harsher"


def test_quarters_are_named_as_the_dates_module_names_them():
    for mon in range(1, 13):
        month = f"2026-{mon:02d}"
        assert quarter_of(month) == dates.quarter_of(month)
    with pytest.raises(InternalError):
        quarter_of("2026-13")
    pairs = [Pair("x1", "2026-03", "A", "overall", 2, 2), Pair("x2", "2025-12", "A", "overall", 2, 2),
             Pair("x3", "2026-01", "A", "overall", 2, 2)]  # fmt: skip
    assert {q: [p.audit_id for p in ps] for q, ps in by_quarter(pairs).items()} == {
        "2025Q4": ["x2"],
        "2026Q1": ["x1", "x3"],
    }
    assert list(by_month(pairs)) == ["2025-12", "2026-01", "2026-03"]


# --- small and degenerate samples -------------------------------------------------------


def pairs_of(ranks, item="overall", auditor="A"):
    return [Pair(f"a{n:03d}", "2026-11", auditor, item, a, m) for n, (a, m) in enumerate(ranks)]


def test_too_few_audits_gives_counts_and_a_note_but_no_alpha():
    ranks = [(1, 1), (2, 3), (3, 3), (4, 4), (2, 2), (3, 2), (1, 2), (4, 4), (2, 2)]
    few = agreement(pairs_of(ranks))
    assert (few.n, few.exact, few.within_one, few.alpha, few.ci) == (9, 6, 9, None, None)
    assert few.note.startswith("Too few moderated audits (n=9) for a reliable Krippendorff's alpha")
    enough = agreement(pairs_of([*ranks, (3, 3)]))
    assert enough.alpha is not None and enough.ci is not None and enough.note == ""
    assert agreement(pairs_of(ranks), min_n=5).alpha == pytest.approx(float(scratch_alpha(ranks)), abs=1e-12)
    # pooled items: the threshold counts audits, not grades
    pooled = pairs_of(ranks) + pairs_of(ranks, item="planning")
    assert agreement(pooled).note.startswith("Too few moderated audits (n=9)")


def test_nothing_to_compare():
    none = agreement([])
    assert none == Agreement(0, 0, 0, 0, None, None, "No moderated audit has a grade to compare.")
    assert none.exact_share is None and none.within_one_share is None
    assert by_item([], ["planning", "overall"])["planning"].n == 0


def test_one_grade_throughout_leaves_alpha_undefined_without_a_nan():
    same = agreement(pairs_of([(3, 3)] * 12))
    assert (same.exact_share, same.within_one_share, same.alpha, same.ci) == (1, 1, None, None)
    assert "undefined (n=12)" in same.note and "nan" not in same.note.casefold()


def test_grades_that_hardly_vary_give_alpha_but_no_interval():
    # one audit of ten graded otherwise: about a third of the resamples miss it (0.9^10)
    rare = agreement(pairs_of([(2, 2)] * 9 + [(3, 3)]))
    assert rare.alpha == 1.0 and rare.ci is None
    assert rare.note.startswith("No confidence interval for Krippendorff's alpha: the grades vary too little")


def test_bad_pairs_are_refused():
    with pytest.raises(InternalError, match="given twice"):
        agreement(pairs_of([(1, 1)]) * 2)
    with pytest.raises(InternalError, match="rank 0"):
        agreement(pairs_of([(0, 1)]))
    with pytest.raises(InternalError, match="True"):
        calibration(pairs_of([(True, 1)]))


# --- properties -------------------------------------------------------------------------

RANKS = st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), max_size=40)


@given(RANKS)
@settings(max_examples=80, deadline=None)
def test_shares_are_fractions_and_alpha_is_krippendorffs(ranks):
    a = agreement(pairs_of(ranks), resamples=100)
    assert a.n == len(ranks)
    if ranks:
        assert 0 <= a.exact_share <= a.within_one_share <= 1
    if a.alpha is not None:
        assert a.alpha == pytest.approx(float(scratch_alpha(ranks)), abs=1e-9)
    elif len(ranks) >= MIN_N:
        assert scratch_alpha(ranks) is None


@given(st.lists(st.integers(1, 4), min_size=MIN_N, max_size=40))
@settings(max_examples=40, deadline=None)
def test_perfect_agreement_is_alpha_one(grades):
    a = agreement(pairs_of([(g, g) for g in grades]), resamples=200)
    assert a.exact_share == 1 and a.within_one_share == 1
    if len(set(grades)) > 1:
        assert a.alpha == 1 and a.ci in (None, (1.0, 1.0))
    else:
        assert a.alpha is None and "undefined" in a.note


@given(RANKS, st.randoms(use_true_random=False))
@settings(max_examples=40, deadline=None)
def test_the_order_of_pairs_changes_nothing(ranks, rnd):
    pairs = pairs_of(ranks) + pairs_of(ranks[::-1], item="planning")
    shuffled = pairs[:]
    rnd.shuffle(shuffled)
    assert agreement(shuffled, resamples=100) == agreement(pairs, resamples=100)
    assert by_item(shuffled, resamples=100) == by_item(pairs, resamples=100)
    assert calibration(shuffled, None) == calibration(pairs, None)


@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=MIN_N, max_size=30))
@settings(max_examples=25, deadline=None)
def test_the_interval_holds_the_estimate(ranks):
    a = agreement(pairs_of(ranks))
    if a.ci is not None:
        assert a.ci[0] <= a.alpha <= a.ci[1]
        assert -1 <= a.ci[0] <= a.ci[1] <= 1


# --- the report's blocks and worksheet rows ---------------------------------------------


def text_of(blocks):
    out = []
    for b in blocks:
        if isinstance(b, Heading | Para):
            out.append(b.text)
        elif isinstance(b, Table):
            out += [b.caption, b.empty, *b.header, *[c for r in b.rows for c in r]]
        else:
            out += [b.title, b.alt]
    return "\n".join(out)


CHANGED = [
    ChangedGrade(audit_id(IN_LINE_2, 5), "NB-90012", IN_LINE_2, "Inadequate", "Good", "Good"),
    ChangedGrade(audit_id(IN_LINE_1, 0), "NB-90001", IN_LINE_1, "Good", "Requires Improvement",
                 "Requires Improvement"),
]  # fmt: skip


@pytest.fixture(scope="module")
def quarter():
    return moderation_figures(by_month(PAIRS), DOMAINS)


def test_the_quarter_section(quarter):
    blocks = moderation_blocks(quarter, CHANGED)
    assert blocks[0] == Heading("Moderation")
    assert quarter.label == "October to December 2026" and quarter.period == "quarter" and quarter.audits == 24
    text = text_of(blocks)
    assert "24 audits were moderated in October to December 2026" in text
    assert "same overall grade as the auditor in 10 (42%)" in text and "at most one grade apart in 23 (96%)" in text

    table = next(b for b in blocks if isinstance(b, Table) and b.header == AGREEMENT_HEADER)
    assert [r[0] for r in table.rows] == [t for _, t in DOMAINS] + ["Overall"]
    for row, item in zip(table.rows, ITEMS, strict=True):
        n, exact, within = EXPECTED[item]
        a = quarter.pooled[item]
        alpha = float(scratch_alpha(units_of([p for p in PAIRS if p.item == item])))
        assert row[1:4] == [str(n), f"{exact} ({round(100 * exact / n)}%)", f"{within} ({round(100 * within / n)}%)"]
        assert row[4] == f"{alpha:.2f} ({a.ci[0]:.2f} to {a.ci[1]:.2f})".replace("-", "−")

    by_month_table = next(b for b in blocks if isinstance(b, Table) and b.header[0] == "Month")
    assert by_month_table.rows == [
        ["October 2026", "8", "3 (38%)", "8 (100%)", "–"],
        ["November 2026", "8", "4 (50%)", "8 (100%)", "–"],
        ["December 2026", "8", "3 (38%)", "7 (88%)", "–"],
    ]
    note = f"Too few moderated audits (n=8) for a reliable Krippendorff's alpha: at least {MIN_N} are needed."
    assert Para(note, "note") in blocks

    calibration_table = next(b for b in blocks if isinstance(b, Table) and b.header == CALIBRATION_HEADER)
    assert calibration_table.rows == [
        [GENEROUS, "6", "6", "0", "+1.00", "more generous"],
        [IN_LINE_1, "6", "1", "0", "+0.17", "in line"],
        [IN_LINE_2, "6", "0", "1", "−0.33", "in line"],
        [HARSH, "6", "0", "6", "−1.00", "harsher"],
    ]
    changed = next(b for b in blocks if isinstance(b, Table) and b.header == CHANGED_HEADER)
    assert changed.rows == [
        [audit_id(IN_LINE_1, 0), "NB-90001", IN_LINE_1, "Good", "Requires Improvement", "Requires Improvement"],
        [audit_id(IN_LINE_2, 5), "NB-90012", IN_LINE_2, "Inadequate", "Good", "Good"],
    ]
    assert "nan" not in text.casefold()


def test_the_calibration_chart_states_its_figures(quarter):
    (chart,) = [b for b in moderation_blocks(quarter, []) if isinstance(b, Chart)]
    assert chart.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert chart.title == "Auditor calibration, October to December 2026"
    for figure in (
        f"{GENEROUS} +1.00 (6 audits, more generous)",
        f"{IN_LINE_1} +0.17 (6 audits, in line)",
        f"{IN_LINE_2} −0.33 (6 audits, in line)",
        f"{HARSH} −1.00 (6 audits, harsher)",
    ):
        assert figure in chart.alt
    # the same figures draw the same picture
    (again,) = [b for b in moderation_blocks(moderation_figures(by_month(PAIRS), DOMAINS), []) if isinstance(b, Chart)]
    assert again.png == chart.png


def test_a_month_section_and_its_small_sample_note():
    november = [p for p in PAIRS if p.month == "2026-11"]
    figures = moderation_figures({"2026-11": november}, DOMAINS)
    assert (figures.label, figures.period, figures.audits) == ("November 2026", "month", 8)
    blocks = moderation_blocks(figures, [])
    text = text_of(blocks)
    assert "Agreement on the overall grade by month" not in text  # one month: no month table
    table = next(b for b in blocks if isinstance(b, Table) and b.header == AGREEMENT_HEADER)
    assert all(r[4] == "–" for r in table.rows)
    # one note for every row, not one per row
    notes = [b for b in blocks if isinstance(b, Para) and b.text.startswith("Too few")]
    assert notes == [Para(f"Too few moderated audits (n=8) for a reliable Krippendorff's alpha: at least {MIN_N} "
                          "are needed.", "note")]  # fmt: skip
    changed = next(b for b in blocks if isinstance(b, Table) and b.header == CHANGED_HEADER)
    assert changed.rows == [] and changed.empty == "Moderation changed no audit's grade of record."


def test_notes_name_their_rows_when_they_hold_for_some():
    # planning graded in only 4 of 12 audits: its row alone has too few
    pairs = pairs_of([(n % 4 + 1, n % 4 + 1) for n in range(12)])
    pairs += pairs_of([(2, 2), (3, 3), (1, 2), (4, 4)], item="planning")
    blocks = moderation_blocks(moderation_figures({"2026-11": pairs}, [("planning", "Planning"), ("voice", "Voice")]),
                               [])  # fmt: skip
    assert Para(f"Too few moderated audits (n=4) for a reliable Krippendorff's alpha: at least {MIN_N} are needed "
                "(Planning).", "note") in blocks  # fmt: skip
    table = next(b for b in blocks if isinstance(b, Table) and b.header == AGREEMENT_HEADER)
    assert [r[0] for r in table.rows] == ["Planning", "Overall"]  # voice: nothing moderated, no row


def test_empty_states():
    month = moderation_blocks(moderation_figures({"2026-11": []}, DOMAINS), [])
    assert month == [Heading("Moderation"), Para("No audits were moderated this month.", "note")]
    quarter = moderation_blocks(moderation_figures({m: [] for m in MONTHS}, DOMAINS), [])
    assert quarter == [Heading("Moderation"), Para("No audits were moderated this quarter.", "note")]
    nothing = moderation_figures({}, DOMAINS)
    assert nothing.empty and moderation_blocks(nothing, [])[1] == Para("No audits were moderated this month.", "note")
    _, rows = moderation_sheet_rows(nothing)
    assert rows == []


def test_one_grade_throughout_shows_no_nan():
    pairs = pairs_of([(3, 3)] * 12)
    blocks = moderation_blocks(moderation_figures({"2026-11": pairs}, DOMAINS), [])
    text = text_of(blocks)
    assert "undefined (n=12)" in text and "nan" not in text.casefold()
    table = next(b for b in blocks if isinstance(b, Table) and b.header == AGREEMENT_HEADER)
    assert table.rows == [["Overall", "12", "12 (100%)", "12 (100%)", "–"]]


def test_the_section_renders_to_html(quarter):
    doc = Document("quarterly", "T", "S", "P", "O", "Svc", moderation_blocks(quarter, CHANGED))
    html = render_html(doc)
    assert "Krippendorff&#x27;s alpha (95% CI)" in html or "Krippendorff's alpha (95% CI)" in html
    assert "Daphne Quince −1.00 (6 audits, harsher)" in html


def test_period_labels():
    assert period_label(["2026-11"]) == "November 2026"
    assert period_label(MONTHS) == "October to December 2026"
    assert period_label(["2026-12", "2027-01"]) == "December 2026 to January 2027"
    assert period_label(["2026Q4"]) == "2026Q4"


def test_worksheet_rows(quarter):
    header, rows = moderation_sheet_rows(quarter)
    assert header == SHEET_AGREEMENT_HEADER and len(rows) == 4 * 6
    assert [r[0] for r in rows[::6]] == ["October 2026", "November 2026", "December 2026", "October to December 2026"]
    pooled_overall = rows[-1]
    a = quarter.pooled["overall"]
    assert pooled_overall[:7] == ["October to December 2026", "Overall", 24, 10, 10 / 24, 23, 23 / 24]
    assert pooled_overall[7:10] == [round(a.alpha, 3), round(a.ci[0], 3), round(a.ci[1], 3)]
    assert pooled_overall[10] is None
    october_overall = rows[5]
    assert october_overall[2:7] == [8, 3, 3 / 8, 8, 1.0] and october_overall[7:10] == [None, None, None]
    assert october_overall[10].startswith("Too few moderated audits (n=8)")
    assert all(isinstance(c, str | int | float) or c is None for r in rows for c in r)

    header, rows = calibration_sheet_rows(quarter)
    assert rows == [[GENEROUS, 6, 6, 0, 1.0, "more generous"], [IN_LINE_1, 6, 1, 0, 0.17, "in line"],
                    [IN_LINE_2, 6, 0, 1, -0.33, "in line"], [HARSH, 6, 0, 6, -1.0, "harsher"]]  # fmt: skip
    header, rows = changed_sheet_rows(CHANGED)
    assert header == CHANGED_HEADER and [r[0] for r in rows] == sorted(c.audit_id for c in CHANGED)
    titles = [t for t, _, _ in moderation_sheet_tables(quarter, CHANGED)]
    assert titles == [
        "Agreement between auditors and moderator, October to December 2026",
        "Auditor calibration, October to December 2026",
        "Grades of record changed by moderation",
    ]
