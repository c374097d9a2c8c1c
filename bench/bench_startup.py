"""Benchmark: how long the quick commands take, whole (interpreter start to exit), old
against new in the same run.

    python bench/bench_startup.py [--runs 21] [--old b9f3494^]

``--old`` is a git revision, by default the commit before the start-up work of issue 15;
its ``src/``, ``config/`` and ``templates/`` are exported with ``git archive`` (no
worktree, no stash).  Each source makes its own workspace with the sample month
(``auditdocs init`` and ``auditdocs demo``: made-up people only; the config has grown
since the old revision, which could not read today's).  Each command then runs ``--runs``
times from each source in a fresh interpreter, old and new in turn so that both see the
same machine load, exactly as the ``auditdocs`` script starts it.  Each source has its own
bytecode cache (``PYTHONPYCACHEPREFIX``, warmed first), as an installed package has.

"new" runs with the config's summary cached, as every run after the first does while the
config is unchanged; "new, config just changed" removes the cache before each run, so
the config is validated in full again (what the first command after an edit costs).  Both
must print the same.

Target (from the issue): ``status``, ``config check`` and ``parse`` of one form within
0.25 s.  ``python -c pass`` is the floor: the interpreter and site-packages alone.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: What the ``auditdocs`` console script runs.
SCRIPT = "import sys; from auditdocs.cli import main; sys.argv[0] = 'auditdocs'; sys.exit(main())"
TARGET = 0.25
#: New, run with the config's summary removed first (as after an edit of the config).
COLD = "new, config just changed"
#: What the commands' start is made of: each part alone in a fresh interpreter (new source).
PARTS = {
    "import click": "import click",
    "import sqlalchemy": "import sqlalchemy",
    "the config's models (pydantic)": "import auditdocs.config.models",
    "the UK bank holidays": "import datetime, auditdocs.dates as d; d.add_working_days(datetime.date(2026, 12, 1), 5)",
    "import lxml.etree": "import lxml.etree",
}


def export(revision: str, into: Path) -> Path:
    """``src/``, ``config/`` and ``templates/`` of ``revision``, written under ``into``."""
    blob = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", revision, "src", "config", "templates"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def environment(src: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "AUDITDOCS_DATABASE_URL")}
    return {**env, "PYTHONPATH": str(src), "PYTHONPYCACHEPREFIX": str(cache)}


def cpu_of_children() -> float:
    """CPU seconds (user + system) of the finished child processes so far (0 where unknown)."""
    try:
        import resource  # POSIX only
    except ImportError:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, stdout) of one run; a failing run stops the benchmark."""
    cpu, start = cpu_of_children(), time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv[2:]) or argv}: exit code {done.returncode}\n{done.stderr}")
    return elapsed, cpu_of_children() - cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command from each source (median)")
    parser.add_argument("--old", default="b9f3494^", help="git revision to compare with")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        root = Path(tmp)
        sources = {"old": export(args.old, root / "old"), "new": REPO / "src"}
        envs = {label: environment(src, root / f"pycache-{label}") for label, src in sources.items()}
        envs[COLD] = envs["new"]
        auditdocs = [sys.executable, "-c", SCRIPT]
        spaces: dict[str, Path] = {}
        for label in sources:
            spaces[label] = root / f"ws-{label}"
            print(f"Making the sample month (auditdocs init, demo) in {spaces[label]} ...", file=sys.stderr)
            run([*auditdocs, "init", str(spaces[label])], envs[label], root)
            run([*auditdocs, "demo"], envs[label], spaces[label])
        spaces[COLD] = spaces["new"]
        summary = spaces["new"] / ".auditdocs" / "config-summary.json"

        def commands(ws: Path) -> dict[str, list[str]]:
            form = next((ws / "output" / "2026-11" / "returned (demo)").glob("* returned (complete, Word).docx"))
            return {
                "python -c pass (floor)": [sys.executable, "-c", "pass"],
                "auditdocs --help": [*auditdocs, "--help"],
                "auditdocs status": [*auditdocs, "status"],
                "auditdocs config check": [*auditdocs, "config", "check"],
                "auditdocs parse (one form)": [*auditdocs, "parse", str(form.relative_to(ws))],
            }

        names = list(commands(spaces["new"]))
        times: dict[tuple[str, str], list[float]] = {}
        cpus: dict[tuple[str, str], list[float]] = {}

        def one(name: str, label: str, timed: bool = True) -> str:
            if label == COLD:
                summary.unlink(missing_ok=True)
            wall, cpu, out = run(commands(spaces[label])[name], envs[label], spaces[label])
            if timed:
                times.setdefault((name, label), []).append(wall)
                cpus.setdefault((name, label), []).append(cpu)
            return out

        for name in names:
            outputs = {}
            for label in envs:  # warm the bytecode cache (and the summary); with it or without, new prints the same
                one(name, label, timed=False)
                outputs[label] = one(name, label, timed=False)
            if outputs["new"] != outputs[COLD]:
                sys.exit(f"{name}: new prints differently with the config's summary cached:\n{outputs['new']}")
            for _ in range(args.runs):
                for label in envs:
                    one(name, label)
        parts: dict[str, list[tuple[float, float, str]]] = {}
        for name, code in PARTS.items():
            run([sys.executable, "-c", code], envs["new"], spaces["new"])
            parts[name] = [run([sys.executable, "-c", code], envs["new"], spaces["new"]) for _ in range(args.runs)]
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    old_rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", args.old], capture_output=True,
                             text=True, check=True).stdout.strip()  # fmt: skip
    print(
        f"Python {platform.python_version()} on {platform.system()}, {os.cpu_count()} CPUs; median (min) of "
        f"{args.runs} runs each, seconds; old = {args.old} ({old_rev}), new = the working tree"
        + (f"; load average {load:.1f} at the end" if load is not None else "")
    )
    print("Wall clock (the target), and CPU time (user + system: less moved by other load on the machine);")
    print(f"'changed': new, with the config just changed (its summary made again: {COLD!r})")
    heads = ("command", "wall old", "wall new", "new/old", "CPU old", "CPU new", f"within {TARGET} s", "changed",
             "CPU")  # fmt: skip
    print(f"{heads[0]:<28}{heads[1]:>16}{heads[2]:>16}{heads[3]:>9}{heads[4]:>9}{heads[5]:>9}  {heads[6]:<12}"
          f"{heads[7]:>9}{heads[8]:>9}")  # fmt: skip
    for name in names:
        old, new, cold = times[(name, "old")], times[(name, "new")], times[(name, COLD)]
        o, n, c = statistics.median(old), statistics.median(new), statistics.median(cold)
        co, cn = statistics.median(cpus[(name, "old")]), statistics.median(cpus[(name, "new")])
        cc = statistics.median(cpus[(name, COLD)])
        within = "" if name.startswith("python") else ("yes" if n <= TARGET else "no")
        walls = f"{o:>9.3f} ({min(old):.3f}){n:>9.3f} ({min(new):.3f})"
        print(f"{name:<28}{walls}{n / o:>9.2f}{co:>9.3f}{cn:>9.3f}  {within:<12}{c:>9.3f}{cc:>9.3f}")

    floor = statistics.median(times[("python -c pass (floor)", "new")])
    floor_cpu = statistics.median(cpus[("python -c pass (floor)", "new")])
    print(
        f"Parts, each alone in a new interpreter (new source), less the floor ({floor:.3f} s, {floor_cpu:.3f} s CPU):"
    )
    for name, runs in parts.items():
        wall = statistics.median(r[0] for r in runs) - floor
        cpu = statistics.median(r[1] for r in runs) - floor_cpu
        print(f"  {name:<32}{wall:>7.3f} s{cpu:>7.3f} s CPU")


if __name__ == "__main__":
    main()
