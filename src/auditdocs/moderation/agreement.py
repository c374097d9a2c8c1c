"""How consistently auditors grade: the auditor's and the moderator's grades of the
moderated audits compared, per domain and overall, and each auditor's calibration.

The chance-corrected statistic is Krippendorff's alpha with the ordinal metric, computed
by the ``krippendorff`` package (small, maintained, numpy only). Why alpha rather than a
weighted Cohen's kappa (scikit-learn's ``cohen_kappa_score``):

- kappa compares two fixed raters, each with their own grade distribution; here the
  first "rater" is many auditors, a different one from audit to audit, so the auditor's
  marginal distribution kappa corrects for belongs to nobody. Alpha treats the grades of
  a unit as interchangeable values (one pooled distribution), which is what a moderation
  sample is, and it would take a second moderator or a missing grade as they come;
- its ordinal metric uses only the order of the grades (Inadequate < Requires
  improvement < Good < Outstanding) and how often each grade is given, not a distance
  between grades that nobody has defined, where kappa's linear or quadratic weights
  treat the grades as equally spaced numbers;
- it corrects for small samples (the expected disagreement counts n - 1 pairable values)
  and its interpretation is published (Krippendorff: rely on alpha >= 0.800, draw
  tentative conclusions from 0.667 to 0.800).

The 95% confidence interval is a percentile bootstrap over audits (the sampled units: a
pooled figure resamples whole audits with all their domains), seeded, so the same pairs
give the same interval in any order. Its 2,000 resamples are computed at once with the
library's formula vectorised (:func:`bootstrap_alphas`): 2,000 calls of the library took
0.1-0.3 s for one figure, seconds for a quarter's; the tests check every resample's
alpha against the library's and against an independent calculation. Not applicable grades are not compared (the caller
leaves them out). Pure: numbers in, numbers and plain sentences out; nothing here reads
the store or knows a grade's label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np
import numpy.typing as npt

from auditdocs.errors import InternalError

OVERALL = "overall"

#: Below this many moderated audits no alpha and no interval are given, only the counts.
#: With fewer than ten, one audit is more than a tenth of the sample and moves alpha by
#: a large step, and the interval spans most of the scale (the tests' synthetic quarter:
#: a month of 8 audits gives alpha 0.59, interval -0.44 to 0.92; its 24 audits 0.54,
#: 0.19 to 0.74): a figure that reads as a finding when it only shows the sample's size.
MIN_N = 10
#: Bootstrap resamples: enough for the 2.5th and 97.5th percentiles to settle (Efron and
#: Tibshirani suggest 1,000 or more for a percentile interval) at a few hundredths of a
#: second per figure.
RESAMPLES = 2000
SEED = 2026
#: Give no interval when more resamples than this share had one grade only (alpha is
#: undefined there, and dropping many of them would narrow the interval falsely).
MAX_UNDEFINED = 0.05
#: An auditor whose grades differ from the moderator's by half a grade or more on average
#: is "more generous" or "harsher": with differences of one grade, that is a net one audit
#: in two graded higher (or lower) than the moderator did.
CALIBRATION_MARGIN = 0.5

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Pair:
    """One grade of one moderated audit: the auditor's and the moderator's ranks."""

    audit_id: str
    month: str  # "YYYY-MM"
    auditor: str  # the auditor's name
    item: str  # a domain id, or "overall"
    auditor_rank: int  # 1 Inadequate .. 4 Outstanding: higher is better
    moderator_rank: int


@dataclass(frozen=True)
class Agreement:
    """Agreement between auditors and moderator over a set of pairs (one item, or pooled).

    ``alpha`` is None when it is not given (no pairs, too few audits, every grade the
    same) and ``ci`` when there is no alpha or the bootstrap could not give one; ``note``
    then says why in a sentence (it is empty when nothing needs saying)."""

    n: int  # grades compared (pairs)
    audits: int  # moderated audits they come from (the bootstrap's units)
    exact: int  # pairs with the same grade
    within_one: int  # pairs at most one grade apart (the exact ones included)
    alpha: float | None
    ci: tuple[float, float] | None
    note: str
    resamples: int = 0  # bootstrap resamples the interval is made of

    @property
    def exact_share(self) -> float | None:
        return self.exact / self.n if self.n else None

    @property
    def within_one_share(self) -> float | None:
        return self.within_one / self.n if self.n else None


@dataclass(frozen=True)
class Calibration:
    """One auditor against the moderator: the mean of auditor's rank - moderator's rank
    (positive: the auditor grades more generously)."""

    auditor: str
    n: int
    mean_difference: float
    higher: int  # grades above the moderator's
    lower: int  # grades below the moderator's
    label: str  # "more generous" | "harsher" | "in line"


def ordinal_alpha(units: Sequence[Sequence[int]]) -> float | None:
    """Krippendorff's ordinal alpha of units, each the values its raters gave (any number
    of raters, missing ones left out); None where it is undefined (fewer than two values
    in the pairable data: no variation to measure agreement against)."""
    domain = sorted({v for u in units if len(u) >= 2 for v in u})
    if len(domain) < 2:
        return None
    index = {v: i for i, v in enumerate(domain)}
    counts = np.zeros((len(units), len(domain)), dtype=np.int64)
    for row, unit in enumerate(units):
        for value in unit:
            if value in index:
                counts[row, index[value]] += 1
    return _alpha(counts, domain)


def _alpha(counts: npt.NDArray[np.int64], domain: Sequence[int]) -> float | None:
    """Alpha from value counts (units × values), or None if only one value occurs."""
    if np.count_nonzero(counts.sum(axis=0)) < 2:
        return None
    return float(krippendorff.alpha(value_counts=counts, value_domain=domain, level_of_measurement="ordinal"))


def _check(pairs: Sequence[Pair]) -> None:
    seen: set[tuple[str, str]] = set()
    for p in pairs:
        for rank in (p.auditor_rank, p.moderator_rank):
            if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
                raise InternalError(f"moderation pair {p.audit_id} {p.item}: grade rank {rank!r} is not 1 or more")
        if (p.audit_id, p.item) in seen:
            raise InternalError(f"moderation pair {p.audit_id} {p.item}: given twice")
        seen.add((p.audit_id, p.item))


def agreement(pairs: Iterable[Pair], *, min_n: int = MIN_N, resamples: int = RESAMPLES, seed: int = SEED) -> Agreement:
    """Exact and within-one-grade agreement and ordinal alpha with its 95% bootstrap
    interval, over the pairs given (one item's, or several items' pooled: a unit is one
    audit's grade of one item). Alpha and its interval need ``min_n`` audits or more."""
    units = sorted(pairs, key=lambda p: (p.audit_id, p.item))
    _check(units)
    n = len(units)
    audit_ids = sorted({p.audit_id for p in units})
    exact = sum(p.auditor_rank == p.moderator_rank for p in units)
    within = sum(abs(p.auditor_rank - p.moderator_rank) <= 1 for p in units)
    if n == 0:
        return Agreement(0, 0, 0, 0, None, None, "No moderated audit has a grade to compare.")
    if len(audit_ids) < min_n:
        note = (
            f"Too few moderated audits (n={len(audit_ids)}) for a reliable Krippendorff's alpha: "
            f"at least {min_n} are needed."
        )
        return Agreement(n, len(audit_ids), exact, within, None, None, note)
    domain = sorted({r for p in units for r in (p.auditor_rank, p.moderator_rank)})
    index = {v: i for i, v in enumerate(domain)}
    counts = np.zeros((n, len(domain)), dtype=np.int64)
    for row, p in enumerate(units):
        counts[row, index[p.auditor_rank]] += 1
        counts[row, index[p.moderator_rank]] += 1
    alpha = _alpha(counts, domain)
    if alpha is None:
        note = (
            f"Krippendorff's alpha is undefined (n={len(audit_ids)}): auditors and moderator gave one and the same "
            "grade throughout, so there is no variation to measure agreement against."
        )
        return Agreement(n, len(audit_ids), exact, within, None, None, note)
    ci, used, undefined = _bootstrap(units, audit_ids, counts, resamples, seed)
    note = ""
    if ci is None:
        note = (
            f"No confidence interval for Krippendorff's alpha: the grades vary too little (in {undefined} of "
            f"{resamples:,} resamples of the audits every grade was the same)."
        )
    return Agreement(n, len(audit_ids), exact, within, alpha, ci, note, used)


def _bootstrap(
    units: Sequence[Pair],
    audit_ids: Sequence[str],
    counts: npt.NDArray[np.int64],
    resamples: int,
    seed: int,
) -> tuple[tuple[float, float] | None, int, int]:
    """(95% percentile interval or None, resamples used, resamples with one grade only):
    audits drawn with replacement, each with all its units."""
    position = {a: i for i, a in enumerate(audit_ids)}
    audit_of = np.array([position[p.audit_id] for p in units], dtype=np.intp)
    draws = np.random.default_rng(seed).integers(0, len(audit_ids), size=(resamples, len(audit_ids)))
    values = bootstrap_alphas(counts, audit_of, draws)
    kept = values[~np.isnan(values)]
    undefined = resamples - len(kept)
    if not len(kept) or undefined > MAX_UNDEFINED * resamples:
        return None, len(kept), undefined
    low, high = np.percentile(kept, [2.5, 97.5])
    return (float(low), float(high)), len(kept), undefined


def bootstrap_alphas(
    counts: npt.NDArray[np.int64], audit_of: npt.NDArray[np.intp], draws: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Ordinal alpha of every resample at once (NaN where only one value occurs): ``counts``
    holds each unit's value counts (units × values), ``audit_of`` each unit's audit (0 ..
    audits - 1), each row of ``draws`` the audits of one resample.

    The formula of ``krippendorff.alpha`` (Krippendorff 2011), vectorised over resamples
    (the tests compare each resample with the library): a resample's coincidence matrix
    is the sum of its audits' coincidences, each as often as it was drawn."""
    audits = max(int(draws.max(initial=-1)), int(audit_of.max(initial=-1))) + 1
    values = counts.shape[1]
    m = counts.sum(axis=1)
    pairable = m >= 2
    c = counts[pairable].astype(np.float64)
    # each unit's coincidences: value pairs within it, each counted 1 / (m - 1)
    per_unit = (c[:, :, None] * c[:, None, :] - c[:, :, None] * np.eye(values)) / (m[pairable] - 1)[:, None, None]
    per_audit = np.zeros((audits, values * values))
    np.add.at(per_audit, audit_of[pairable], per_unit.reshape(len(c), -1))
    # how often each resample drew each audit
    flat = (draws + audits * np.arange(len(draws))[:, None]).ravel()
    times = np.bincount(flat, minlength=len(draws) * audits).reshape(len(draws), audits).astype(np.float64)
    o = (times @ per_audit).reshape(len(draws), values, values)
    n_v = o.sum(axis=2)
    n = n_v.sum(axis=1)
    # ordinal metric: (sum of n_g for g from c to k - (n_c + n_k) / 2) squared
    cumulative = np.cumsum(n_v, axis=1)
    low = np.minimum.outer(np.arange(values), np.arange(values))
    high = np.maximum.outer(np.arange(values), np.arange(values))
    between = cumulative[:, high] - cumulative[:, low] + n_v[:, low]
    d = (between - (n_v[:, :, None] + n_v[:, None, :]) / 2) ** 2
    observed = (o * d).sum(axis=(1, 2))
    expected = (n_v[:, :, None] * n_v[:, None, :] * d).sum(axis=(1, 2))  # the diagonal's d is 0
    defined = (np.count_nonzero(n_v, axis=1) >= 2) & (expected > 0)
    out = np.full(len(draws), np.nan)
    out[defined] = 1 - (n[defined] - 1) * observed[defined] / expected[defined]
    return out


def by_item(
    pairs: Iterable[Pair],
    items: Sequence[str] | None = None,
    *,
    min_n: int = MIN_N,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, Agreement]:
    """Agreement per item: ``items`` in their order (an item without pairs has n 0), or
    every item the pairs have in the order they first come, with "overall" last."""
    grouped: dict[str, list[Pair]] = {}
    for p in pairs:
        grouped.setdefault(p.item, []).append(p)
    if items is None:
        items = [i for i in grouped if i != OVERALL] + ([OVERALL] if OVERALL in grouped else [])
    return {i: agreement(grouped.get(i, []), min_n=min_n, resamples=resamples, seed=seed) for i in items}


def quarter_of(month: str) -> str:
    """'2026-11' → '2026Q4': calendar quarters, as ``auditdocs.dates.quarter_of`` names them."""
    if not _MONTH.fullmatch(month):
        raise InternalError(f"moderation pair month {month!r} is not YYYY-MM")
    year, mon = month.split("-")
    return f"{year}Q{(int(mon) - 1) // 3 + 1}"


def by_month(pairs: Iterable[Pair]) -> dict[str, list[Pair]]:
    """The pairs grouped by month ("YYYY-MM"), months in order, pairs as given."""
    out: dict[str, list[Pair]] = {}
    for p in pairs:
        quarter_of(p.month)  # checks the month
        out.setdefault(p.month, []).append(p)
    return dict(sorted(out.items()))


def by_quarter(pairs: Iterable[Pair]) -> dict[str, list[Pair]]:
    """The pairs grouped by calendar quarter ("2026Q4"), quarters in order, pairs as given."""
    out: dict[str, list[Pair]] = {}
    for p in pairs:
        out.setdefault(quarter_of(p.month), []).append(p)
    return dict(sorted(out.items()))


def calibration_label(total_difference: int, n: int) -> str:
    """The words for a mean difference of ``total_difference / n`` grades (compared
    exactly, without rounding): half a grade or more either way is not in line."""
    if n and total_difference >= CALIBRATION_MARGIN * n:
        return "more generous"
    if n and total_difference <= -CALIBRATION_MARGIN * n:
        return "harsher"
    return "in line"


def calibration(pairs: Iterable[Pair], item: str | None = OVERALL) -> list[Calibration]:
    """Each auditor's grades of ``item`` (None: every item) against the moderator's, most
    generous first, then by name; auditors with no such pair are left out."""
    differences: dict[str, list[int]] = {}
    chosen = [p for p in pairs if item is None or p.item == item]
    _check(chosen)
    for p in chosen:
        differences.setdefault(p.auditor, []).append(p.auditor_rank - p.moderator_rank)
    out = [
        Calibration(
            auditor=name,
            n=len(diffs),
            mean_difference=sum(diffs) / len(diffs),
            higher=sum(d > 0 for d in diffs),
            lower=sum(d < 0 for d in diffs),
            label=calibration_label(sum(diffs), len(diffs)),
        )
        for name, diffs in differences.items()
    ]
    return sorted(out, key=lambda c: (-c.mean_difference, c.auditor.casefold(), c.auditor))
