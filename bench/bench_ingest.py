"""Benchmark: ingest (parse + validate + store) many returned forms, one and two workers.

    python bench/bench_ingest.py [--sizes 500,2000] [--workers 1,2] [--database SERVER_URL]

Synthetic data only.  A temporary workspace gets N allocations (100 per month, as a
regional service might have) and N filled returns: each is a generated form of its own
(its own signed identity) whose body is one form filled the way Word fills it, so making
them costs milliseconds.  Each run happens in a fresh process so its peak memory (RSS
high-water mark of the process and its workers) can be compared across batch sizes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

PER_MONTH = 100


def make_returns(root: Path, n: int) -> Path:
    from auditdocs.allocation.workbook import read_allocation
    from auditdocs.forms.generate import FormFactory
    from auditdocs.ooxml.fill import WordStyle, fill_form
    from auditdocs.sample.answers import AUDIT_DATE, complete_values
    from auditdocs.sample.month import init_workspace, sample_allocation_path

    ws = init_workspace(root / "ws")
    base = read_allocation(sample_allocation_path(ws))[0]
    allocations = []
    for i in range(n):
        year, month = 2020 + (i // PER_MONTH) // 12, (i // PER_MONTH) % 12 + 1
        allocations.append(replace(base, audit_id=f"B-{i:06d}", month=f"{year}-{month:02d}",
                                   case_reference=f"NB-{100000 + i}", due_date=date(year, month, 28)))
    ws.store().record_allocations(allocations)
    factory = FormFactory(ws.config, ws.templates_dir, ws.key())
    filled = fill_form(factory.render(base, "audit"), complete_values(AUDIT_DATE), WordStyle(seed=1))
    body = zipfile.ZipFile(io.BytesIO(filled)).read("word/document.xml")
    inbox = root / "inbox"
    inbox.mkdir()
    for alloc in allocations:
        own = zipfile.ZipFile(io.BytesIO(factory.render(alloc, "audit")))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name in own.namelist():
                z.writestr(name, body if name == "word/document.xml" else own.read(name))
        (inbox / f"{alloc.audit_id}.docx").write_bytes(out.getvalue())
    return inbox


def run_one(root: Path, jobs: int) -> dict:
    """In this (fresh) process: ingest the inbox, report time and peak memory."""
    from auditdocs.returns.ingest import ingest
    from auditdocs.workspace import Workspace

    ws = Workspace(root / "ws")
    files = sorted((root / "inbox").iterdir())
    start = time.perf_counter()
    result = ingest(ws, [root / "inbox"], jobs=jobs, received_at=datetime(2026, 1, 1, tzinfo=UTC))
    seconds = time.perf_counter() - start
    statuses = {s: result.count(s) for s in {o.status for o in result.outcomes}}
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"files": len(files), "seconds": seconds, "statuses": statuses,
            "peak_mb": peak_kb / 1024, "worker_peak_mb": child_kb / 1024}


@contextlib.contextmanager
def fresh_database(server: str | None) -> Iterator[str | None]:
    """A new, empty PostgreSQL database on ``server`` (a URL whose user may create
    databases) for one run, dropped afterwards; None for SQLite in the workspace."""
    if not server:
        yield None
        return
    from sqlalchemy import create_engine, text

    name = f"auditdocs_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(n: int, jobs: int, server: str | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="auditdocs-bench-ingest-") as tmp, fresh_database(server) as database:
        root = Path(tmp)
        env = {**os.environ}
        if database:
            env["AUDITDOCS_DATABASE_URL"] = database
        subprocess.run([sys.executable, __file__, "--make", str(root), "--n", str(n)], check=True, env=env)
        out = subprocess.run([sys.executable, __file__, "--run", str(root), "--jobs", str(jobs)], check=True,
                             env=env, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="500,2000", help="batch sizes to compare, e.g. 1000,10000")
    ap.add_argument("--workers", default="1,2", help="worker counts to compare, e.g. 2")
    ap.add_argument(
        "--database",
        default=None,
        help="a PostgreSQL server URL whose user may create databases (each run gets a new one)",
    )
    ap.add_argument("--make", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=2000, help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make:
        make_returns(args.make, args.n)
        return
    if args.run:
        print(json.dumps(run_one(args.run, args.jobs)))
        return
    print(f"auditdocs ingest benchmark; CPUs {os.cpu_count()}; Python {platform.python_version()}; "
          f"store {'PostgreSQL' if args.database else 'SQLite'}")
    results = {}
    for n in (int(s) for s in args.sizes.split(",")):
        for jobs in (int(w) for w in args.workers.split(",")):
            r = measure(n, jobs, args.database)
            results[(n, jobs)] = r
            print(f"  {n:>6} files, {jobs} worker{'s' if jobs > 1 else ' '}: {r['seconds']:7.1f} s  "
                  f"{r['files'] / r['seconds']:6.1f} files/s  {1000 * r['seconds'] / r['files']:6.1f} ms/file  "
                  f"peak {r['peak_mb']:.0f} MB (workers {r['worker_peak_mb']:.0f} MB)  {r['statuses']}")
    for n in sorted({n for n, _ in results}):
        if (n, 1) in results and (n, 2) in results:
            one, two = results[(n, 1)], results[(n, 2)]
            print(f"  {n:>6} files: 2 workers are {one['seconds'] / two['seconds']:.2f}x as fast as 1")
    sizes = sorted({n for n, _ in results})
    most = max(j for _, j in results)
    if len(sizes) > 1:
        small, big = results[(sizes[0], most)], results[(sizes[-1], most)]
        print(f"  peak memory, {sizes[0]} → {sizes[-1]} files: {small['peak_mb']:.0f} → {big['peak_mb']:.0f} MB "
              f"(target: flat, < 300 MB)")


if __name__ == "__main__":
    main()
