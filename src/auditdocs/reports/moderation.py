"""The reports' moderation section (issue 16): how often auditors and the moderator
agreed, per domain and overall, with Krippendorff's alpha; each auditor's calibration
(chart and table); the audits whose grade of record moderation changed. The same
figures as worksheet tables for the workbook.

The figures are worked out once (:func:`moderation_figures`) and rendered as blocks
(Word and HTML) or rows (Excel)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auditdocs.dates import is_month, month_label
from auditdocs.moderation.agreement import (
    CALIBRATION_MARGIN,
    MIN_N,
    OVERALL,
    Agreement,
    Calibration,
    Pair,
    by_item,
    calibration,
)
from auditdocs.reports import charts
from auditdocs.reports.content import Block, Chart, Heading, Para, Table, clean

#: A worksheet cell: text, a number, or empty.
Cell = str | int | float | None


@dataclass(frozen=True)
class ChangedGrade:
    """A moderated audit whose grade of record differs from the auditor's overall grade
    (grades as their labels)."""

    audit_id: str
    case_reference: str
    auditor: str
    auditor_grade: str
    moderator_grade: str
    record_grade: str


@dataclass(frozen=True)
class ModerationFigures:
    """A report period's moderation figures: ``periods`` (months, in order) each with its
    agreement per item; ``pooled``, the whole period's (the one month's, for a month);
    ``calibration`` of the overall grades (of every grade if no overall was moderated)."""

    label: str  # the period in words: "November 2026", "October to December 2026"
    period: str  # "month" | "quarter"
    items: list[tuple[str, str]]  # (item, title): the domains in framework order, then overall
    periods: dict[str, dict[str, Agreement]]
    pooled: dict[str, Agreement]
    calibration: list[Calibration]
    calibration_item: str | None
    audits: int  # moderated audits over the whole period

    @property
    def empty(self) -> bool:
        return self.audits == 0


def period_label(keys: Sequence[str]) -> str:
    """'November 2026'; 'October to December 2026' for several months (keys that are not
    months are shown as they are)."""
    if not keys:
        return ""
    if not all(is_month(k) for k in keys):
        return " to ".join(dict.fromkeys([keys[0], keys[-1]]))
    first, last = month_label(keys[0]), month_label(keys[-1])
    if first == last:
        return first
    return f"{first.split()[0] if first.split()[1] == last.split()[1] else first} to {last}"


def moderation_figures(
    pairs_by_period: Mapping[str, Sequence[Pair]],
    domains: Sequence[tuple[str, str]],
    *,
    period: str | None = None,
    min_n: int = MIN_N,
) -> ModerationFigures:
    """The figures of ``pairs_by_period`` (month "YYYY-MM" → that month's pairs; every month
    of the report, those without moderation too), for ``domains`` ((id, title), framework
    order). ``period`` is "month" or "quarter" (default: "quarter" for several keys)."""
    keys = list(pairs_by_period)
    items = [*domains, (OVERALL, "Overall")]
    ids = [i for i, _ in items]
    periods = {k: by_item(pairs_by_period[k], ids, min_n=min_n) for k in keys}
    everything = [p for k in keys for p in pairs_by_period[k]]
    pooled = periods[keys[0]] if len(keys) == 1 else by_item(everything, ids, min_n=min_n)  # none: all n 0
    item: str | None = OVERALL if any(p.item == OVERALL for p in everything) else None
    return ModerationFigures(
        label=period_label(keys),
        period=period or ("quarter" if len(keys) > 1 else "month"),
        items=items,
        periods=periods,
        pooled=pooled,
        calibration=calibration(everything, item),
        calibration_item=item,
        audits=len({p.audit_id for p in everything}),
    )


# --- the figures as text -----------------------------------------------------------------


def signed(value: float, places: int = 2) -> str:
    """+1.00, −0.50 (a true minus sign), 0.00 (never −0.00)."""
    if round(value, places) == 0:
        return f"{0:.{places}f}"
    return f"{value:+.{places}f}".replace("-", "−")


def decimal(value: float, places: int = 2) -> str:
    """0.72, −0.13 (a true minus sign), 0.00 (never −0.00)."""
    text = signed(value, places)
    return text[1:] if text.startswith("+") else text


def count_share(part: int, whole: int) -> str:
    return f"{part} ({round(100 * part / whole)}%)" if whole else "–"


def alpha_text(a: Agreement) -> str:
    """'0.72 (0.55 to 0.86)': alpha and its 95% interval; '–' where none is given."""
    if a.alpha is None:
        return "–"
    if a.ci is None:
        return decimal(a.alpha)
    return f"{decimal(a.alpha)} ({decimal(a.ci[0])} to {decimal(a.ci[1])})"


def _agreement_row(name: str, a: Agreement) -> list[str]:
    return [name, str(a.audits), count_share(a.exact, a.n), count_share(a.within_one, a.n), alpha_text(a)]


def _notes(rows: Sequence[tuple[str, Agreement]]) -> list[Block]:
    """One note per distinct reason, naming its rows unless it holds for every row."""
    by_note: dict[str, list[str]] = {}
    for name, a in rows:
        if a.note:
            by_note.setdefault(a.note, []).append(name)
    out: list[Block] = []
    for note, names in by_note.items():
        if len(names) == len(rows):
            out.append(Para(note, "note"))
        else:
            out.append(Para(f"{note.rstrip('.')} ({', '.join(names)}).", "note"))
    return out


def _audits(n: int) -> str:
    return f"{n} audit{'' if n == 1 else 's'}"


AGREEMENT_HEADER = ["Domain", "Moderated", "Exact agreement", "Within one grade", "Krippendorff's alpha (95% CI)"]
CALIBRATION_HEADER = ["Auditor", "Moderated", "Graded higher", "Graded lower", "Mean difference", "Calibration"]
CHANGED_HEADER = ["Audit", "Case", "Auditor", "Auditor's grade", "Moderator's grade", "Grade of record"]


def moderation_blocks(figures: ModerationFigures, changed: Sequence[ChangedGrade]) -> list[Block]:
    """The moderation section: what it is, the agreement table (and by month, for a
    quarter), the auditors' calibration (chart and table), the grades of record changed."""
    blocks: list[Block] = [Heading("Moderation")]
    if figures.empty and not changed:
        return [*blocks, Para(f"No audits were moderated this {figures.period}.", "note")]
    blocks.append(
        Para(
            "A moderator re-grades a sample of the accepted case file audits, and the two sets of grades are "
            "compared: how often the auditor and the moderator gave the same grade, how often they were at most "
            "one grade apart, and Krippendorff's alpha, which corrects agreement for what chance alone would give "
            "(1 is full agreement, 0 no better than chance; figures of 0.80 or more can be relied on, 0.67 to "
            "0.80 allow tentative conclusions). Not applicable grades are not compared."
        )
    )
    overall = figures.pooled[OVERALL]
    if overall.n:
        blocks.append(
            Para(
                f"{_audits(figures.audits)} {'was' if figures.audits == 1 else 'were'} moderated in {figures.label}. "
                f"The moderator gave the same overall grade as the auditor in {count_share(overall.exact, overall.n)} "
                f"and an overall grade at most one grade apart in {count_share(overall.within_one, overall.n)}."
            )
        )
    rows = [(title, figures.pooled[item]) for item, title in figures.items]
    blocks.append(
        Table(
            AGREEMENT_HEADER,
            [_agreement_row(name, a) for name, a in rows if a.n],
            caption=f"Agreement between auditors and moderator, {figures.label}",
            empty="No moderated audit has a grade to compare.",
        )
    )
    blocks.extend(_notes([(name, a) for name, a in rows if a.n]))
    if len(figures.periods) > 1:
        months = [(period_label([k]), by[OVERALL]) for k, by in figures.periods.items()]
        blocks += [
            Heading("Agreement on the overall grade by month", 2),
            Table(
                ["Month", "Moderated", "Exact agreement", "Within one grade", "Krippendorff's alpha (95% CI)"],
                [_agreement_row(name, a) for name, a in months],
                caption=f"Agreement on the overall grade by month, {figures.label}",
            ),
            *_notes([(name, a) for name, a in months if a.n]),
        ]
    blocks.extend(_calibration_blocks(figures))
    blocks.extend(_changed_blocks(changed))
    return blocks


def _calibration_blocks(figures: ModerationFigures) -> list[Block]:
    what = "overall grade" if figures.calibration_item == OVERALL else "grades"
    blocks: list[Block] = [
        Heading("Auditor calibration", 2),
        Para(
            f"Each auditor's mean difference from the moderator's {what}, in grades: positive where the auditor "
            f"graded higher than the moderator (more generous), negative where lower (harsher). A mean "
            f"difference of less than {decimal(CALIBRATION_MARGIN, 1)} of a grade either way is in line. A figure "
            "from one or two audits is only an indication."
        ),
    ]
    cal = figures.calibration
    if not cal:
        return [*blocks, Para("No auditor's grades were moderated.", "note")]
    title = f"Auditor calibration, {figures.label}"
    alt = (
        f"Horizontal bars, one per auditor, of the mean difference between the auditor's and the moderator's "
        f"{what} in {figures.label} (positive: more generous, negative: harsher): "
        + "; ".join(f"{clean(c.auditor)} {signed(c.mean_difference)} ({_audits(c.n)}, {c.label})" for c in cal)
        + "."
    )
    png = charts.diverging(
        [clean(c.auditor) for c in cal],
        [c.mean_difference for c in cal],
        [f"{signed(c.mean_difference)} ({_audits(c.n)})" for c in cal],
        title,
        "Mean difference in grades (− harsher, + more generous)",
        band=CALIBRATION_MARGIN,
    )
    rows = [[clean(c.auditor), str(c.n), str(c.higher), str(c.lower), signed(c.mean_difference), c.label] for c in cal]
    return [
        *blocks,
        Chart(title, png, alt),
        Table(CALIBRATION_HEADER, rows, caption=f"Auditor calibration, {figures.label}"),
    ]


def _changed_blocks(changed: Sequence[ChangedGrade]) -> list[Block]:
    rows = [
        [clean(c.audit_id), clean(c.case_reference), clean(c.auditor), clean(c.auditor_grade),
         clean(c.moderator_grade), clean(c.record_grade)]
        for c in sorted(changed, key=lambda c: c.audit_id)
    ]  # fmt: skip
    return [
        Heading("Grades of record changed by moderation", 2),
        Para("Moderated audits whose grade of record is no longer the grade the auditor gave."),
        Table(
            CHANGED_HEADER,
            rows,
            caption="Grades of record changed by moderation",
            empty="Moderation changed no audit's grade of record.",
        ),
    ]


# --- the figures as worksheet tables -----------------------------------------------------

SHEET_AGREEMENT_HEADER = [
    "Period", "Domain", "Moderated audits", "Exact agreement", "Exact agreement (share)", "Within one grade",
    "Within one grade (share)", "Krippendorff's alpha", "95% CI from", "95% CI to", "Note",
]  # fmt: skip
SHEET_CALIBRATION_HEADER = [
    "Auditor", "Moderated audits", "Graded higher", "Graded lower", "Mean difference (grades)", "Calibration",
]  # fmt: skip


def _round(value: float | None, places: int = 3) -> float | None:
    return None if value is None else round(value, places) + 0.0  # + 0.0: never -0.0


def moderation_sheet_rows(figures: ModerationFigures) -> tuple[list[str], list[list[Cell]]]:
    """The agreement figures as one table: a row per period and item (each month, then
    the whole period when there are several); shares as fractions (format them 0%),
    alpha and its interval to 3 places, empty where none is given."""
    periods = [(period_label([k]), by) for k, by in figures.periods.items()]
    if len(periods) > 1:
        periods.append((figures.label, figures.pooled))
    rows: list[list[Cell]] = []
    for name, by in periods:
        for item, title in figures.items:
            a = by[item]
            rows.append(
                [name, title, a.audits, a.exact, a.exact_share, a.within_one, a.within_one_share, _round(a.alpha),
                 _round(a.ci[0]) if a.ci else None, _round(a.ci[1]) if a.ci else None, a.note or None]
            )  # fmt: skip
    return list(SHEET_AGREEMENT_HEADER), rows


def calibration_sheet_rows(figures: ModerationFigures) -> tuple[list[str], list[list[Cell]]]:
    """Each auditor's calibration, as in the report's table (the mean to 2 places)."""
    rows: list[list[Cell]] = [
        [c.auditor, c.n, c.higher, c.lower, _round(c.mean_difference, 2), c.label] for c in figures.calibration
    ]
    return list(SHEET_CALIBRATION_HEADER), rows


def changed_sheet_rows(changed: Sequence[ChangedGrade]) -> tuple[list[str], list[list[Cell]]]:
    rows: list[list[Cell]] = [
        [c.audit_id, c.case_reference, c.auditor, c.auditor_grade, c.moderator_grade, c.record_grade]
        for c in sorted(changed, key=lambda c: c.audit_id)
    ]
    return list(CHANGED_HEADER), rows


def moderation_sheet_tables(
    figures: ModerationFigures, changed: Sequence[ChangedGrade]
) -> list[tuple[str, list[str], list[list[Cell]]]]:
    """The "Moderation" worksheet: (title, header, rows) of each table, top to bottom."""
    return [
        (f"Agreement between auditors and moderator, {figures.label}", *moderation_sheet_rows(figures)),
        (f"Auditor calibration, {figures.label}", *calibration_sheet_rows(figures)),
        ("Grades of record changed by moderation", *changed_sheet_rows(changed)),
    ]
