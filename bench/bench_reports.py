"""Benchmark: build the monthly and quarterly reports over a store of many audits.

    python bench/bench_reports.py [--audits 10000] [--repeat 1]

A temporary workspace (``init_workspace``) gets a SQLite store filled directly with
synthetic audits (SQLAlchemy ``executemany`` into allocations, receipts, submissions
and field_values: no forms are generated or parsed), spread over the three months of
2026Q4, with grades, evidence, amendments, late returns, concerns and re-audit links.
No real names: teams, people and case references are made up.  Then it times loading
the data (the few set-based SELECTs) and building each report (Word, Excel, HTML).

Target (from the issue): seconds, not minutes, for 10,000 audits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from auditdocs.dates import last_working_day
from auditdocs.reports import monthly_report, quarterly_report
from auditdocs.reports.data import load_report_data
from auditdocs.sample.answers import EVIDENCE
from auditdocs.sample.month import init_workspace
from auditdocs.store.schema import allocations, field_values, receipts, submissions

MONTHS = ("2026-10", "2026-11", "2026-12")
TEAMS = [f"Team {c}" for c in "ABCDEFGHIJKL"]
GRADES = ["outstanding", "good", "requires_improvement", "inadequate"]
WEIGHTS = [5, 45, 38, 12]
PHRASES = [
    "trusting relationship with the family", "the child's voice is clear", "chronology is out of date",
    "no analysis of the history", "management oversight is thorough", "plans lack measurable actions",
    "visits were purposeful", "the school's view is missing", "direct work with the child",
]  # fmt: skip


def fill_store(ws_root: Path, audits: int, seed: int = 7) -> tuple[int, float]:
    """Insert ``audits`` synthetic audits; returns (field value rows, seconds)."""
    from auditdocs.workspace import Workspace

    ws = Workspace.open(ws_root)
    store = ws.store()
    tool = ws.config.tool("case_file_audit")
    domains = [d.id for d in tool.domains]
    rng = random.Random(seed)
    start = time.perf_counter()
    per_month = audits // len(MONTHS)
    alloc_rows, receipt_rows, sub_rows, value_rows = [], [], [], []
    now = datetime(2027, 1, 5, tzinfo=UTC)
    sub_id = 0
    inadequate_before: list[tuple[str, str]] = []  # (audit id, case reference) judged Inadequate last month
    for m, month in enumerate(MONTHS):
        year, mon = map(int, month.split("-"))
        due = last_working_day(year, mon)
        reaudits = list(inadequate_before)
        inadequate_before = []
        count = per_month + (audits - per_month * len(MONTHS) if m == len(MONTHS) - 1 else 0)
        for n in range(count):
            audit_id = f"{month}-{n + 1:05d}"
            follows = None
            if n < len(reaudits):
                follows, case = reaudits[n]
            else:
                case = f"SYN-{m}{n:06d}"
            team = TEAMS[n % len(TEAMS)]
            alloc_rows.append(
                {
                    "audit_id": audit_id, "month": month, "tool": "case_file_audit", "case_reference": case,
                    "child_id": f"X{m}{n:06d}", "team": team, "worker": f"Worker {n % 97}",
                    "team_manager": f"Manager {team[-1]}", "auditor": f"Auditor {n % 61}",
                    "auditor_email": f"auditor{n % 61}@example.invalid", "due_date": due, "reaudit_of": follows,
                    "state": "issued", "updated_at": now,
                }
            )  # fmt: skip
            if rng.random() < 0.08:
                continue  # never returned
            grades = {d: rng.choices(GRADES, WEIGHTS)[0] for d in domains}
            overall = max(grades.values(), key=GRADES.index) if rng.random() < 0.7 else "requires_improvement"
            if overall == "inadequate":
                inadequate_before.append((audit_id, case))
            versions = 2 if rng.random() < 0.12 else 1
            late_first = rng.random() < 0.15
            fixed = rng.random() > 0.03  # a few still await their amended copy
            for v in range(1, versions + 1):
                sub_id += 1
                received = datetime.combine(due + timedelta(days=(3 if late_first else -4) + 2 * (v - 1)),
                                            datetime.min.time(), UTC)  # fmt: skip
                status = "accepted" if v == versions and fixed else "needs_amendment"
                receipt_rows.append({"id": sub_id, "sha256": f"{sub_id:064x}", "name": f"{audit_id}.docx",
                                     "origin": "bench", "received_at": received, "outcome": status,
                                     "audit_id": audit_id, "reason": None})  # fmt: skip
                concern = rng.random() < 0.01
                sub_rows.append({"id": sub_id, "audit_id": audit_id, "document": "audit", "version": v,
                                 "sha256": f"{sub_id:064x}", "receipt_id": sub_id, "received_at": received,
                                 "status": status, "is_current": v == versions, "late": received.date() > due,
                                 "urgent": concern, "converted_from": None, "config_version": "bench",
                                 "template_version": "bench",
                                 "resubmit_by": due + timedelta(days=5) if status != "accepted" else None})  # fmt: skip
                values: dict[str, object] = {
                    "overall.grade": overall,
                    "overall.good_practice": rng.choice(PHRASES).capitalize() + ".",
                    "overall.development": rng.choice(PHRASES).capitalize() + ".",
                    "concern.immediate": concern,
                    "concern.details": "Raised with the team manager the same day." if concern else None,
                    "concern.notified": received.date().isoformat() if concern else None,
                    "discussion.worker_date": None if rng.random() < 0.05 else received.date().isoformat(),
                    "discussion.manager_date": received.date().isoformat(),
                }
                for d in domains:
                    values[f"domain.{d}.grade"] = grades[d]
                    values[f"domain.{d}.evidence"] = f"{rng.choice(PHRASES).capitalize()}. {EVIDENCE[d]}"
                    for c in range(10):  # criteria: stored, never read by reports
                        values[f"domain.{d}.criteria.c{c}"] = rng.random() < 0.5
                value_rows.extend(
                    {"submission_id": sub_id, "field_id": k, "value": json.dumps(val)} for k, val in values.items()
                )
            alloc_rows[-1]["state"] = status
    with store.transaction() as conn:
        conn.execute(insert(allocations), alloc_rows)
        conn.execute(insert(receipts), receipt_rows)
        conn.execute(insert(submissions), sub_rows)
        for first in range(0, len(value_rows), 50_000):
            conn.execute(insert(field_values), value_rows[first : first + 50_000])
    return len(value_rows), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--audits", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {args.audits} audits over {', '.join(MONTHS)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "qa"
        ws = init_workspace(root)
        rows, took = fill_store(root, args.audits)
        print(f"fill store: {took:.1f} s ({rows} field values)")
        as_of = date(2027, 1, 8)
        t = time.perf_counter()
        data = load_report_data(ws.store(), ws.config, list(MONTHS), as_of)
        print(
            f"load the quarter's data (set-based SELECTs): {time.perf_counter() - t:.2f} s, {len(data.audits)} audits"
        )
        for _ in range(args.repeat):
            t = time.perf_counter()
            paths = monthly_report(ws, "2026-12", as_of=as_of)
            print(f"monthly report 2026-12 (Word, Excel, HTML): {time.perf_counter() - t:.2f} s")
            t = time.perf_counter()
            paths += quarterly_report(ws, "2026Q4", as_of=as_of)
            print(f"quarterly report 2026Q4 (report, bulletin, Excel, HTML): {time.perf_counter() - t:.2f} s")
        for p in paths:
            print(f"  {p.name}: {p.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
