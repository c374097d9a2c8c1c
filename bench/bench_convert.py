"""Benchmark: converting legacy returns (.doc, .odt), one LibreOffice per file (the old way)
against one LibreOffice per batch (ooxml.convert.Converter), alone and inside a month's ingest.

    python bench/bench_convert.py [--files 20] [--returns 300] [--workers 1,2] [--skip-month]

Synthetic data only.  Every return is a generated form of its own (its own identity, case
and evidence: sentences of stock phrases and words of its own, as bench_month.py writes
them), so no two files are alike.

1. A batch of ``--files`` legacy files (half .doc, half .odt, saved by LibreOffice from
   filled forms), converted the old way (``old_to_docx`` below: the function as it was
   before issue 15, one soffice run per file) and the new way (one Converter for the
   batch, its start counted); seconds per file.  The values read from both are compared
   (document.xml may differ by a table row's repeat-as-header flag in a .doc: one way
   lays the document out, the other does not).
2. A realistic month of ``--returns`` returns in one month: 5% .doc, 5% .odt, 10% .docx
   saved by LibreOffice, 20 e-mails carrying a return each, the rest .docx filled the way
   Word fills them; ingested (archive, parse, validate, store, feedback) with 1 and 2
   workers, with the old conversion and the new, each run in a fresh process on a fresh
   copy of the workspace.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

from bench_month import DistinctReturns  # the same kind of returns: distinct evidence

# --- the old way, kept as it was before issue 15 (the baseline) -----------------------------


def old_to_docx(data: bytes, kind: str, timeout: float = 120.0) -> bytes:
    """One soffice run per file, as ooxml.convert.to_docx was (POSIX only: killpg)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise SystemExit("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="auditdocs-convert-") as tmp:
        folder = Path(tmp)
        source = folder / f"return.{kind}"
        source.write_bytes(data)
        command = [soffice, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", "--norestore",
                   "--nolockcheck", "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(folder / "out"),
                   str(source)]
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        result = folder / "out" / "return.docx"
        if code != 0 or not result.exists():
            from auditdocs.errors import RejectedFile

            raise RejectedFile(f"LibreOffice could not convert the .{kind} file (corrupt?)")
        return result.read_bytes()


def use_old_conversion() -> None:
    """Make every Converter convert the old way (inherited by forked workers)."""
    from auditdocs.ooxml.convert import Converter

    def convert(self: Converter, data: bytes, kind: str, timeout: float | None = None) -> bytes:
        return old_to_docx(data, kind, self.timeout if timeout is None else timeout)

    Converter.convert = convert  # type: ignore[method-assign]


# --- making returns ---------------------------------------------------------------------------


def make_month(root: Path, n: int) -> list[str]:
    """A workspace with ``n`` audits allocated in 2026-11 and a filled return for each in
    ``root/filled`` (Word-style .docx, distinct evidence); their ids."""
    from auditdocs.allocation.workbook import read_allocation
    from auditdocs.sample.month import init_workspace, sample_allocation_path

    ws = init_workspace(root / "ws")
    base = read_allocation(sample_allocation_path(ws))[0]
    allocations = [
        replace(base, audit_id=f"B-{i:06d}", month="2026-11", case_reference=f"NB-{100000 + i}",
                due_date=date(2026, 11, 30))
        for i in range(n)
    ]
    ws.store().record_allocations(allocations)
    maker = DistinctReturns(ws, base, seed=15)
    out_dir = root / "filled"
    out_dir.mkdir()
    for alloc in allocations:
        (out_dir / f"{alloc.audit_id}.docx").write_bytes(maker.form(alloc, maker.texts()))
    return [a.audit_id for a in allocations]


def save_as(files: list[Path], target: str, outdir: Path) -> list[Path]:
    """Files saved by LibreOffice in another format, in one soffice run (setting up, not timed)."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="auditdocs-bench-profile-") as profile:
        subprocess.run(["soffice", f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                        "--convert-to", target, "--outdir", str(outdir), *map(str, files)],
                       check=True, capture_output=True, timeout=900)
    ext = "." + target.split(":")[0]
    made = [outdir / (f.stem + ext) for f in files]
    missing = [p.name for p in made if not p.exists()]
    if missing:
        raise SystemExit(f"LibreOffice did not write {missing}")
    return made


def make_inbox(root: Path, n: int) -> None:
    ids = make_month(root, n)
    filled = root / "filled"
    legacy, lo_docx = max(1, n // 20), max(1, n // 10)
    emails = min(20, n // 15)
    docs = ids[:legacy]
    odts = ids[legacy : 2 * legacy]
    lo = ids[2 * legacy : 2 * legacy + lo_docx]
    mailed = ids[2 * legacy + lo_docx : 2 * legacy + lo_docx + emails]
    inbox = root / "inbox"
    inbox.mkdir()
    save_as([filled / f"{i}.docx" for i in docs], "doc:MS Word 97", inbox)
    save_as([filled / f"{i}.docx" for i in odts], "odt", inbox)
    saved = save_as([filled / f"{i}.docx" for i in lo], "docx:MS Word 2007 XML", root / "lo")
    for path in saved:
        shutil.move(path, inbox / f"{path.stem} (LibreOffice).docx")
    for audit_id in mailed:
        message = EmailMessage()
        message["From"] = "auditor@northbrook.example"
        message["Subject"] = f"Audit {audit_id} returned"
        message.set_content("Please find my audit attached.")
        message.add_attachment((filled / f"{audit_id}.docx").read_bytes(), maintype="application",
                               subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                               filename=f"{audit_id}.docx")
        (inbox / f"{audit_id}.eml").write_bytes(bytes(message))
    for audit_id in ids[2 * legacy + lo_docx + emails :]:
        shutil.copy(filled / f"{audit_id}.docx", inbox / f"{audit_id}.docx")
    mix = {".doc": len(docs), ".odt": len(odts), "LibreOffice .docx": len(lo), "e-mails": len(mailed),
           "Word .docx": n - 2 * legacy - lo_docx - emails}
    (root / "mix.json").write_text(json.dumps(mix))


# --- 1. a batch of legacy files -----------------------------------------------------------------


def bench_batch(tmp: Path, files: int) -> None:
    from auditdocs.ooxml.convert import Converter

    root = tmp / "batch"
    root.mkdir()
    ids = make_month(root, files)
    half = files // 2
    made = save_as([root / "filled" / f"{i}.docx" for i in ids[:half]], "doc:MS Word 97", root / "legacy")
    made += save_as([root / "filled" / f"{i}.docx" for i in ids[half:]], "odt", root / "legacy")
    batch = [(p.read_bytes(), p.suffix[1:]) for p in made]

    start = time.perf_counter()
    old = [old_to_docx(data, kind) for data, kind in batch]
    old_s = time.perf_counter() - start

    start = time.perf_counter()
    with Converter() as converter:
        first = converter.convert(*batch[0])
        started = time.perf_counter()
        new = [first] + [converter.convert(data, kind) for data, kind in batch[1:]]
        converted = time.perf_counter()
    new_s = time.perf_counter() - start
    starts = converter.starts
    from auditdocs.forms.layout import layout_source
    from auditdocs.forms.parse import parse_bytes
    from auditdocs.workspace import Workspace

    ws = Workspace(root / "ws")
    key, layouts = ws.key(), layout_source(ws.config)

    def fields(docx: bytes) -> dict:
        parsed = parse_bytes(docx, "converted.docx", key, layouts=layouts)
        return {"status": parsed.status, "audit": parsed.audit_id, **parsed.fields}

    same = sum(fields(a) == fields(b) for a, b in zip(old, new, strict=True))
    alike = sum(zipfile.ZipFile(io.BytesIO(a)).read("word/document.xml")
                == zipfile.ZipFile(io.BytesIO(b)).read("word/document.xml") for a, b in zip(old, new, strict=True))
    n = len(batch)
    print(f"1. A batch of {n} legacy files ({half} .doc, {n - half} .odt), converted to .docx")
    print(f"   {'way':<48} {'seconds':>8} {'s/file':>7}")
    print(f"   {'old: one soffice per file':<48} {old_s:8.2f} {old_s / n:7.3f}")
    print(f"   {'new: one LibreOffice for the batch (start counted)':<48} {new_s:8.2f} {new_s / n:7.3f}"
          f"   {old_s / new_s:.1f}x as fast; target <= 0.15 s/file")
    print(f"   {'    its start and first file':<48} {started - start:8.2f}")
    print(f"   {'    the other files':<48} {converted - started:8.2f} {(converted - started) / (n - 1):7.3f}")
    print(f"   {'    stopping it, removing its profile':<48} {new_s - (converted - start):8.2f}")
    print(f"   LibreOffice started {starts} time(s); the same status and fields read as from the old way's in "
          f"{same} of {n} (document.xml byte for byte the same in {alike})")


# --- 2. a realistic month -----------------------------------------------------------------------


def run_month(root: Path, jobs: int, old: bool) -> dict:
    """In this (fresh) process: ingest the inbox."""
    if old:
        use_old_conversion()
    from auditdocs.returns.ingest import ingest
    from auditdocs.workspace import Workspace

    ws = Workspace(root / "ws")
    start = time.perf_counter()
    result = ingest(ws, sorted((root / "inbox").iterdir()), jobs=jobs, received_at=datetime(2026, 11, 28, tzinfo=UTC))
    seconds = time.perf_counter() - start
    converted = sum(1 for o in result.outcomes if o.converted_from)
    reasons = sorted({o.reason or "" for o in result.outcomes if o.status == "rejected"})
    return {"seconds": seconds, "returns": len(result.outcomes), "converted": converted,
            "statuses": {s: result.count(s) for s in sorted({o.status for o in result.outcomes})},
            "rejected because": reasons}


def bench_month(tmp: Path, n: int, workers: list[int]) -> None:
    made = tmp / "month"
    subprocess.run([sys.executable, __file__, "--make", str(made), "--n", str(n)], check=True)
    mix = json.loads((made / "mix.json").read_text())
    print(f"2. A month of {n} returns ({', '.join(f'{v} {k}' for k, v in mix.items())}), ingested")
    print(f"   {'conversion':<28} {'workers':>7} {'seconds':>8} {'ms/return':>9}  outcomes")
    results = {}
    for jobs in workers:
        for old in (True, False):
            run = tmp / f"run-{jobs}-{'old' if old else 'new'}"
            shutil.copytree(made, run)
            env = {**os.environ, "AUDITDOCS_START_METHOD": "fork"} if old else None  # the patch goes with fork
            out = subprocess.run([sys.executable, __file__, "--run", str(run), "--jobs", str(jobs),
                                  *(["--old"] if old else [])], check=True, capture_output=True, text=True,
                                 env=env).stdout
            r = json.loads(out.strip().splitlines()[-1])
            results[(jobs, old)] = r
            label = "old: soffice per file" if old else "new: one LibreOffice/batch"
            print(f"   {label:<28} {jobs:>7} {r['seconds']:8.1f} {1000 * r['seconds'] / r['returns']:9.1f}  "
                  f"{r['statuses']} ({r['converted']} converted)", flush=True)
            for reason in r["rejected because"]:
                print(f"     rejected: {reason}")
            shutil.rmtree(run, ignore_errors=True)
    for jobs in workers:
        old, new = results[(jobs, True)], results[(jobs, False)]
        print(f"   {jobs} worker{'s' if jobs > 1 else ''}: new {old['seconds'] / new['seconds']:.1f}x as fast as old"
              + ("; target <= 15 s" if jobs == 2 else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20, help="legacy files in the batch (half .doc, half .odt)")
    ap.add_argument("--returns", type=int, default=300, help="returns in the month")
    ap.add_argument("--workers", default="1,2", help="worker counts for the month, e.g. 1,2")
    ap.add_argument("--skip-batch", action="store_true", help="only the month")
    ap.add_argument("--skip-month", action="store_true", help="only the batch of legacy files")
    ap.add_argument("--make", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--old", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make:
        make_inbox(args.make, args.n)
        return
    if args.run:
        print(json.dumps(run_month(args.run, args.jobs, args.old)))
        return
    if shutil.which("soffice") is None:
        raise SystemExit("LibreOffice (soffice) is not installed")
    version = subprocess.run(["soffice", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"auditdocs conversion benchmark; CPUs {os.cpu_count()}; Python {platform.python_version()}; {version}")
    with tempfile.TemporaryDirectory(prefix="auditdocs-bench-convert-") as tmp:
        if not args.skip_batch:
            bench_batch(Path(tmp), args.files)
        if not args.skip_month:
            bench_month(Path(tmp), args.returns, [int(w) for w in args.workers.split(",")])


if __name__ == "__main__":
    main()
