"""Benchmark: build the monthly and quarterly reports over a store of many audits, the
old way (a baseline commit) beside the new, in the same run.

    python bench/bench_reports.py [--sizes 2500,10000,20000] [--baseline REV] [--repeat 3]

A temporary workspace (``init_workspace``) gets a SQLite store filled directly with
synthetic audits (SQLAlchemy ``executemany`` into allocations, receipts, submissions
and field_values: no forms are generated or parsed), spread over the three months of
2026Q4, with grades, evidence, amendments, late returns, concerns and re-audit links.
No real names: teams, people and case references are made up; every evidence text is its
own (people write them), so phrase counting and workbooks are measured at their worst.
Each report runs in a fresh process (imports done first), from loading its data to its
last file: this tree's code, and the baseline's ``src`` (``git archive``, the working
tree untouched) on the same store.  Peak memory is the process's maximum resident size
(Linux: VmHWM, reset after the imports, so "+N MB" is what the report itself added).
A big report's workbook is built in a worker process (and a quarter's charts and themes
for development in a helper): their CPU time is given beside the report process's, and
the largest worker's peak resident size (it shares the pages the report process had
when it was forked: not all of it is memory of its own).

Targets (issue 15), at 10,000 audits: the monthly report within 2 s, the quarterly within 5 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from auditdocs.dates import last_working_day
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


#: Words to make each text its own (returns are written by people: no two say the same).
VOCABULARY = sorted({w for text in EVIDENCE.values() for w in re.findall(r"[a-z]+", text.lower())})


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(8, 16))).capitalize() + "."


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
                    "overall.good_practice": f"{rng.choice(PHRASES).capitalize()}. {_sentence(rng)}",
                    "overall.development": f"{rng.choice(PHRASES).capitalize()}. {_sentence(rng)}",
                    "concern.immediate": concern,
                    "concern.details": "Raised with the team manager the same day." if concern else None,
                    "concern.notified": received.date().isoformat() if concern else None,
                    "discussion.worker_date": None if rng.random() < 0.05 else received.date().isoformat(),
                    "discussion.manager_date": received.date().isoformat(),
                }
                for d in domains:
                    values[f"domain.{d}.grade"] = grades[d]
                    values[f"domain.{d}.evidence"] = (
                        f"{rng.choice(PHRASES).capitalize()}. {EVIDENCE[d]} {_sentence(rng)}"
                    )
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


#: Run in a fresh process for each code version and report: imports first, then one
#: whole report (data loading, Word, Excel, HTML) timed, its peak memory measured.
CHILD = r"""
import json, os, resource, sys, time
from datetime import date
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from auditdocs.reports import monthly_report, quarterly_report
from auditdocs.workspace import Workspace
ws = Workspace.open(Path(sys.argv[2]))
ws.config
as_of = date(2027, 1, 8)


def status(key):  # MB, from Linux's /proc (ru_maxrss would count the parent's memory before exec)
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith(key))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak counted from here
except OSError:
    pass
before = status("VmRSS:")
wall, cpu = time.perf_counter(), time.process_time()
if sys.argv[3] == "monthly":
    monthly_report(ws, "2026-12", as_of=as_of)
else:
    quarterly_report(ws, "2026Q4", as_of=as_of)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = status("VmHWM:")
workers = os.times()  # the workers', waited for
worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": peak, "grew_mb": peak - before,
                  "workers_cpu": workers.children_user + workers.children_system, "workers_peak_mb": worker_peak}))
"""
#: The last commit before the reports were made fast (issue 15): openpyxl, docxtpl.
BASELINE = "98609d67485dd46a4aa7828eb0c5abbab5d867b1"
HERE = Path(__file__).resolve().parent.parent


def run_report(src: Path, root: Path, report: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(src), str(root), report], check=True,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})  # fmt: skip
    return dict(json.loads(out.stdout.splitlines()[-1]))


def baseline_source(rev: str, into: Path) -> Path:
    """The ``src``, ``config`` and ``templates`` folders of commit ``rev`` (git archive: the
    working tree is not touched); returns ``src``."""
    archive = subprocess.run(["git", "-C", str(HERE), "archive", "--format=tar", rev, "src", "config", "templates"],
                             check=True, capture_output=True).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def baseline_workspace(root: Path, baseline: Path) -> Path:
    """A workspace for the baseline's code on ``root``'s store: the baseline's own config
    and templates (today's config has settings an older revision cannot read)."""
    old = root.with_name(root.name + "-baseline")
    shutil.copytree(baseline / "config", old / "config")
    shutil.copytree(baseline / "templates", old / "templates")
    (old / "output").mkdir()
    (old / ".auditdocs").symlink_to(root / ".auditdocs", target_is_directory=True)
    return old


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000", help="audits in the store, comma-separated (e.g. 2500,10000,20000)")
    ap.add_argument("--baseline", default=BASELINE, help="the commit to compare with ('' for none)")
    ap.add_argument("--baseline-sizes", default="10000", help="the sizes the baseline is run at too")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    sizes = [int(n) for n in args.sizes.split(",")]
    old_sizes = {int(n) for n in args.baseline_sizes.split(",") if n} if args.baseline else set()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs; each report in a fresh process, "
          "timed from its data loading to its last file written; best of --repeat")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        versions = {"new": HERE / "src"}
        if old_sizes:
            versions["old"] = baseline_source(args.baseline, Path(tmp) / "baseline")
        rows = []
        for size in sizes:
            root = Path(tmp) / f"qa{size}"
            init_workspace(root)
            spaces = {"new": root}
            if "old" in versions:
                spaces["old"] = baseline_workspace(root, versions["old"].parent)
            values, took = fill_store(root, size)
            print(f"{size} audits: store filled in {took:.1f} s ({values} field values)")
            for report in ("monthly", "quarterly"):
                for name, src in versions.items():
                    if name == "old" and size not in old_sizes:
                        continue
                    runs = [run_report(src, spaces[name], report) for _ in range(args.repeat)]
                    best = min(runs, key=lambda r: r["wall"])
                    rows.append((size, report, name, best))
                    w_cpu, w_peak = best.get("workers_cpu", 0), best.get("workers_peak_mb", 0)
                    workers = f"; workers {w_cpu:.2f} s CPU, peak {w_peak:.0f} MB" if w_cpu else ""
                    print(f"  {report:9} {name}: {best['wall']:6.2f} s wall, {best['cpu']:6.2f} s CPU, "
                          f"peak {best['peak_mb']:5.0f} MB (+{best['grew_mb']:.0f} MB during the report){workers}; "
                          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print("\n| audits | report | old: wall s, CPU s, peak MB | new: wall s, CPU s (+ workers'), peak MB (workers') "
              "| new/old (wall) |")  # fmt: skip
        print("|---|---|---|---|---|")
        for size in sizes:
            for report in ("monthly", "quarterly"):
                got = {name: r for s, rep, name, r in rows if s == size and rep == report}
                old, new = got.get("old"), got["new"]
                def cell(r: dict[str, float]) -> str:
                    if not r.get("workers_cpu"):
                        return f"{r['wall']:.2f}, {r['cpu']:.2f}, {r['peak_mb']:.0f} (+{r['grew_mb']:.0f})"
                    return (f"{r['wall']:.2f}, {r['cpu']:.2f} (+{r['workers_cpu']:.2f}), {r['peak_mb']:.0f} "
                            f"({r['workers_peak_mb']:.0f})")  # fmt: skip

                ratio = f"{new['wall'] / old['wall']:.2f}" if old else "–"
                print(f"| {size:,} | {report} | {cell(old) if old else '–'} | {cell(new)} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
