"""Benchmark: one big month of returns, each with evidence of its own (the worst case for
spotting evidence copied from another audit of the month).

    python bench/bench_month.py [--sizes 1000,5000] [--workers 1] [--old REV --old-sizes 1000]

Synthetic data only.  Every return is a generated form of its own (its own identity) with
seven domains of evidence written for it: sentences that mix the stock phrases every
auditor uses ("the child was seen alone") with words of its own case, so texts share
common runs of words but are not alike.  Every 40th return copies one domain's evidence
from an earlier return: the number of returns flagged "evidence.copied" must be the same
whatever the size or the code.  Besides the same returns in one month, the benchmark runs
them spread over months of 100 (where the month never grows): the cost a return should
have.  ``--old REV`` also runs the code of a git revision (checked out in a temporary
worktree) on the same files, e.g. the revision before the index: ``--old 98609d6``.

Reported: milliseconds per return in each quarter of the batch (flat if a return's cost
does not grow with the month), the whole batch, and peak memory (RSS high-water mark).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

COPY_EVERY = 40
STOCK = [
    "the child was seen alone", "the social worker visited the family home", "the plan was reviewed on time",
    "the team manager gave clear direction", "the assessment considers the history", "the voice of the child is",
    "records are up to date", "there is evidence of management oversight", "the school was consulted about",
    "the parents were involved in the plan", "direct work with the child shows", "the chronology is not current",
    "supervision notes record the decision", "risk was reviewed at the strategy discussion", "actions have owners",
    "the child's wishes and feelings are recorded", "the worker should", "it would be better if", "a strength is",
    "the core group met", "health visitor", "the family support worker", "domestic abuse", "school attendance",
]


def evidence(rng: random.Random, vocabulary: list[str]) -> str:
    sentences = []
    for _ in range(rng.randint(3, 5)):
        own = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(4, 8)))
        stock = rng.choice(STOCK)
        sentences.append((f"{stock} {own}" if rng.random() < 0.5 else f"{own} {stock}").capitalize() + ".")
    return " ".join(sentences)


class DistinctReturns:
    """Filled returns with evidence of their own, made in milliseconds: one form filled once
    (whole runs, so each evidence box holds a marker), its markers replaced per return and
    its document put into each audit's own generated form (its own signed identity).
    Shared with bench_convert.py."""

    def __init__(self, ws: Any, base: Any, seed: int) -> None:
        from auditdocs.forms.generate import FormFactory
        from auditdocs.ooxml.fill import WordStyle, fill_form
        from auditdocs.sample.answers import AUDIT_DATE, complete_values

        self.factory = FormFactory(ws.config, ws.templates_dir, ws.key())
        values = complete_values(AUDIT_DATE)
        self.boxes = [k for k in values if k.endswith(".evidence")]
        values.update({key: f"EVIDENCEMARKER{k}X" for k, key in enumerate(self.boxes)})
        filled = fill_form(self.factory.render(base, "audit"), values, WordStyle(1, split_runs=False))
        self.document = zipfile.ZipFile(io.BytesIO(filled)).read("word/document.xml").decode()
        self.rng = random.Random(seed)
        syllable = "{}{}{}".format
        self.vocabulary = [syllable(self.rng.choice("bcdfghklmnprstvw"), self.rng.choice("aeiou"), k)
                           for k in range(20_000)]

    def texts(self) -> list[str]:
        """New evidence for every box."""
        return [evidence(self.rng, self.vocabulary) for _ in self.boxes]

    def form(self, alloc: Any, texts: list[str]) -> bytes:
        """The audit's own form filled with ``texts``."""
        xml = self.document
        for k, text in enumerate(texts):
            xml = xml.replace(f"EVIDENCEMARKER{k}X", text)
        own = zipfile.ZipFile(io.BytesIO(self.factory.render(alloc, "audit")))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name in own.namelist():
                z.writestr(name, xml.encode() if name == "word/document.xml" else own.read(name))
        return out.getvalue()


def make_returns(root: Path, n: int, per_month: int) -> None:
    """A workspace with ``n`` allocations, ``per_month`` to a month, and a return for each."""
    from auditdocs.allocation.workbook import read_allocation
    from auditdocs.sample.month import init_workspace, sample_allocation_path

    ws = init_workspace(root / "ws")
    base = read_allocation(sample_allocation_path(ws))[0]
    allocations = []
    for i in range(n):
        index = 2026 * 12 + 10 - i // per_month  # 2026-11, then the months before it
        year, month = index // 12, index % 12 + 1
        allocations.append(replace(base, audit_id=f"B-{i:06d}", month=f"{year}-{month:02d}",
                                   case_reference=f"NB-{100000 + i}", due_date=date(year, month, 28)))
    ws.store().record_allocations(allocations)
    maker = DistinctReturns(ws, base, seed=2026)
    inbox = root / "inbox"
    inbox.mkdir()
    written: list[list[str]] = []
    copies = 0
    for i, alloc in enumerate(allocations):
        texts = maker.texts()
        if i % COPY_EVERY == 0 and i % per_month:  # copied from an earlier return of the month
            texts[2] = written[maker.rng.randrange(i - i % per_month, i)][2]
            copies += 1
        written.append(texts)
        (inbox / f"{alloc.audit_id}.docx").write_bytes(maker.form(alloc, texts))
    (root / "copies.txt").write_text(str(copies))


def run_one(root: Path, jobs: int) -> dict:
    """In this (fresh) process: ingest the inbox, in order; time each return's outcome."""
    from auditdocs.returns.ingest import ingest
    from auditdocs.workspace import Workspace

    ws = Workspace(root / "ws")
    files = sorted((root / "inbox").iterdir())
    stamps: list[float] = []
    cpu: list[float] = []  # this process's CPU time: the figure less moved by other load (1 worker)

    def stamp(_outcome: object) -> None:
        stamps.append(time.perf_counter())
        cpu.append(time.process_time())

    start = time.perf_counter()
    result = ingest(ws, files, jobs=jobs, received_at=datetime(2026, 12, 1, tzinfo=UTC), progress=stamp)
    seconds = time.perf_counter() - start
    # The quarters count from the first return's end: its warm-up (the form's layout, the
    # store's connection) is a one-off, reported on its own.
    quarter = (len(stamps) - 1) // 4
    counts = [quarter, quarter, quarter, len(stamps) - 1 - 3 * quarter]

    def by_quarter(times: list[float]) -> list[float]:
        edges = [times[0]] + [times[q * quarter] for q in (1, 2, 3)] + [times[-1]]
        return [1000 * (b - a) / c for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)]
    return {
        "files": len(files),
        "seconds": seconds,
        "first_ms": 1000 * (stamps[0] - start),
        "quarters_ms": by_quarter(stamps),
        "cpu_quarters_ms": by_quarter(cpu),
        "statuses": {s: result.count(s) for s in {o.status for o in result.outcomes}},
        "copied": sum(any(f.rule == "evidence.copied" for f in o.findings) for o in result.outcomes),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def measure(root: Path, jobs: int, src: Path | None) -> dict:
    env = {**os.environ}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    out = subprocess.run([sys.executable, __file__, "--run", str(root), "--jobs", str(jobs)], check=True, env=env,
                         capture_output=True, text=True).stdout
    return {**json.loads(out.strip().splitlines()[-1]), "copies_made": int((root / "copies.txt").read_text())}


def copy_of(root: Path, tmp: Path, name: str) -> Path:
    """A fresh copy of a made workspace and inbox (each run starts from an empty store)."""
    import shutil

    target = tmp / name
    shutil.copytree(root, target)
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,5000", help="returns in the month, e.g. 1000,5000")
    ap.add_argument("--workers", default="1", help="worker counts, e.g. 1,2")
    ap.add_argument("--old", help="also run this git revision's code (e.g. the one before the index)")
    ap.add_argument("--old-sizes", default="1000", help="sizes to run the old code on (it may be slow)")
    ap.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--make", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--per-month", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make:
        make_returns(args.make, args.n, args.per_month)
        return
    if args.run:
        print(json.dumps(run_one(args.run, args.jobs)))
        return
    print(f"auditdocs one-month ingest benchmark; CPUs {os.cpu_count()}; Python {platform.python_version()}")
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="auditdocs-bench-month-") as tmp_name:
        tmp = Path(tmp_name)
        old_src = None
        if args.old:
            subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", str(tmp / "old"), args.old],
                           check=True, capture_output=True)
            old_src = tmp / "old" / "src"
        try:
            for n in (int(s) for s in args.sizes.split(",")):
                for per_month, what in ((n, "one month"), (100, "months of 100")):
                    made = tmp / f"made-{n}-{per_month}"
                    subprocess.run([sys.executable, __file__, "--make", str(made), "--n", str(n),
                                    "--per-month", str(per_month)], check=True)
                    runs = [("new", None, jobs) for jobs in map(int, args.workers.split(","))]
                    if old_src and per_month == n and str(n) in args.old_sizes.split(","):
                        runs.append((f"old {args.old}", old_src, 1))
                    for label, src, jobs in runs:
                        r = measure(copy_of(made, tmp, f"run-{n}-{per_month}-{label[:3]}-{jobs}"), jobs, src)
                        q, c = r["quarters_ms"], r["cpu_quarters_ms"]
                        quarters = " ".join(f"{ms:6.1f}" for ms in q)
                        cpu_quarters = " ".join(f"{ms:5.1f}" for ms in c)
                        cpu = "" if jobs > 1 else f"CPU by quarter [{cpu_quarters}] ms (last/first {c[3] / c[0]:.2f})  "
                        print(f"  {n:>5} returns, {what:<13} {label:<11} {jobs} worker{'s' if jobs > 1 else ' '}: "
                              f"{r['seconds']:7.1f} s  {1000 * r['seconds'] / n:6.1f} ms/return  "
                              f"by quarter [{quarters}] ms (last/first {q[3] / q[0]:.2f}, "
                              f"max/min {max(q) / min(q):.2f}; "
                              f"first return {r['first_ms']:.0f} ms)  {cpu}"
                              f"peak {r['peak_mb']:.0f} MB (workers {r['worker_peak_mb']:.0f} MB)"
                              f"  copies flagged {r['copied']} of {r['copies_made']}  {r['statuses']}", flush=True)
        finally:
            if old_src:
                subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tmp / "old")],
                               check=False, capture_output=True)


if __name__ == "__main__":
    main()
