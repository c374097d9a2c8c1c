"""Benchmark: generate and parse audit forms, ours against docxtpl / python-docx / plain lxml.

    python bench/bench_forms.py [--n 200] [--repeat 3] [--filled 50]

Everything runs in one temporary workspace (``init_workspace``) with synthetic data only.
Figures are medians of per-form times over all repetitions; they are noisy on small
machines, so the CPU count is printed with them.  Targets (from the issue):

- generate: docxtpl load+render+save / ours render+write  >= 20x
- parse:    python-docx open + walk controls / ours parse_bytes  >= 5x
- parse:    ours parse_bytes / zipfile + lxml read every control  <= 2x

The first parse target cannot be met on this form: plain zipfile + lxml, which does
nothing but read ``document.xml`` and walk its controls, is itself only ~1.5x faster
than python-docx (printed as the "ceiling"); ours also checks every part, the identity's
HMAC and the field list, and reads each control's type, state and choices.

The docxtpl baseline renders the *same* full form: the template it loads is one of our
forms rendered with every context value replaced by its own ``{{ placeholder }}``, so
docxtpl does the same substitutions over the same document and writes the same parts.
(docxtpl does not touch docProps/custom.xml, so its output carries no per-case identity;
ours does: the comparison flatters docxtpl slightly.)
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import io
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import docx
import docxtpl
import lxml
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from lxml import etree

from auditdocs.allocation.record import Allocation
from auditdocs.allocation.workbook import read_allocation
from auditdocs.files import write_private
from auditdocs.forms.generate import FormFactory
from auditdocs.forms.layout import Field
from auditdocs.forms.parse import parse_bytes
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.sample.month import init_workspace, sample_allocation_path

KIND = "audit"
SDT, SDT_PR, TAG, VAL, T = qn("w:sdt"), qn("w:sdtPr"), qn("w:tag"), qn("w:val"), qn("w:t")


# --- timing -------------------------------------------------------------------------


def per_form_ms(items: list[Any], work: Callable[[int, Any], object]) -> list[float]:
    """Milliseconds for ``work(i, item)`` on each item, one sample per item."""
    gc.collect()
    out = []
    clock = time.perf_counter
    for i, item in enumerate(items):
        t0 = clock()
        work(i, item)
        out.append((clock() - t0) * 1000.0)
    return out


@dataclasses.dataclass
class Result:
    samples: list[float] = dataclasses.field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)


# --- data ---------------------------------------------------------------------------


def build_allocations(sample: list[Allocation], n: int) -> list[Allocation]:
    out = []
    for i in range(n):
        base = sample[i % len(sample)]
        out.append(
            dataclasses.replace(
                base, audit_id=f"{base.month}-B{i + 1:04d}", case_reference=f"{base.case_reference}/{i + 1:04d}"
            )
        )
    return out


def placeholder_context(context: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    """The same shape as ``context`` with every leaf replaced by ``{{ its.path }}``."""
    out: dict[str, Any] = {}
    for key, value in context.items():
        dotted = f"{path}.{key}" if path else key
        out[key] = placeholder_context(value, dotted) if isinstance(value, Mapping) else "{{ " + dotted + " }}"
    return out


_SENTENCES = [
    "Visits were on time and the child was seen alone on each visit in the period.",
    "The record explains the purpose of the visit & what the worker observed at home.",
    "Analysis of what the observations mean for the child is thin in two of the records.",
    "The assessment pulls together the history and the child's views in their own words.",
    "Partner agencies (school, GP, health visitor) contributed to the plan and the review.",
    "Contingency plans are not clear; it is not said what happens if things get worse.",
    'The child\'s lived experience is vivid: "I like it when mum picks me up from school".',
    "Supervision notes show reflective discussion and clear actions with timescales < 4 weeks.",
    "Chronology is up to date; significant events are recorded with their impact.",
    "Management oversight is evident at key decision points, with rationale recorded.",
]
_PEOPLE = ["Team manager", "Allocated worker", "IRO", "Service manager", "Practice lead"]
_ACTIONS = [
    "Update the chronology with the events since the last review",
    "Hold a direct work session and record the child's views",
    "Convene a core group meeting and agree a contingency plan",
    "Complete the updated assessment & share it with the family",
]


def evidence(rng: random.Random) -> str:
    paras = []
    for _ in range(rng.randint(1, 3)):
        paras.append(" ".join(rng.sample(_SENTENCES, rng.randint(2, 4))))
    return "\n".join(paras)


def form_values(fields: list[Field], rng: random.Random) -> dict[str, Any]:
    """What an auditor fills in: every grade and evidence, some ticks, 2-4 plan rows."""
    plan_rows = rng.randint(2, 4)
    values: dict[str, Any] = {}
    for f in fields:
        if f.id.startswith("plan."):
            row = int(f.id.split(".")[1])
            if row > plan_rows:
                continue  # left as the placeholder, like a real auditor would
        if f.kind == "checkbox":
            values[f.id] = rng.random() < (0.1 if f.id == "concern.immediate" else 0.6)
        elif f.kind == "dropdown":
            values[f.id] = rng.choice(f.choices)[0]
        elif f.kind == "date":
            due = f.id.endswith(".due")
            values[f.id] = date(2027, 1, rng.randint(4, 29)) if due else date(2026, 11, rng.randint(1, 28))
        elif f.id.endswith(".action"):
            values[f.id] = rng.choice(_ACTIONS)
        elif f.id.endswith(".owner"):
            values[f.id] = rng.choice(_PEOPLE)
        elif f.id.endswith(".outcome"):
            values[f.id] = "Chronology reviewed at the next audit; the child's views on file."
        elif f.id == "concern.details" and not values.get("concern.immediate"):
            continue
        else:
            values[f.id] = evidence(rng)
    return values


def expected(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# --- baselines ----------------------------------------------------------------------


def walk_controls(body: etree._Element) -> list[tuple[str | None, str]]:
    """Every w:sdt's tag and joined w:t text (what a baseline reader has to do at least)."""
    out = []
    for sdt in body.iter(SDT):
        pr = sdt.find(SDT_PR)
        tag = pr.find(TAG) if pr is not None else None
        out.append((tag.get(VAL) if tag is not None else None, "".join(t.text or "" for t in sdt.iter(T))))
    return out


def read_python_docx(data: bytes) -> list[tuple[str | None, str]]:
    doc = docx.Document(io.BytesIO(data))
    return walk_controls(doc.element.body)


def read_plain_lxml(data: bytes) -> list[tuple[str | None, str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("word/document.xml")
    return walk_controls(etree.fromstring(xml))


# --- main ---------------------------------------------------------------------------


def ratio_line(label: str, value: float, op: str, target: float) -> str:
    ok = value >= target if op == ">=" else value <= target
    verdict = "ok" if ok else "MISSED"
    return f"{label} {value:.1f}x (target {op} {target:g}x: {verdict})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="forms per measurement (default 200)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of each measurement (default 3)")
    ap.add_argument("--filled", type=int, default=50, help="distinct filled forms, cycled to N (default 50)")
    args = ap.parse_args(argv)
    n, reps, m = args.n, args.repeat, min(args.filled, args.n)
    cpus = os.cpu_count()
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    print(
        f"auditdocs form benchmark: N={n}, repeat={reps}, filled={m}; "
        f"CPUs {cpus} (usable {affinity}); Python {platform.python_version()}, "
        f"docxtpl {docxtpl.__version__}, python-docx {docx.__version__}, lxml {lxml.__version__}",
        flush=True,
    )
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="auditdocs-bench-") as tmp_name:
        tmp = Path(tmp_name)
        ws = init_workspace(tmp / "workspace")
        key = ws.key()
        allocs = build_allocations(read_allocation(sample_allocation_path(ws)), n)
        tool = allocs[0].tool

        # One-off preparation, a fresh factory each time (config already loaded).
        prep = Result()
        for _ in range(reps):
            fresh = FormFactory(ws.config, ws.templates_dir, key)
            t0 = time.perf_counter()
            fresh.form(tool, KIND)
            prep.samples.append((time.perf_counter() - t0) * 1000.0)
        factory = FormFactory(ws.config, ws.templates_dir, key)
        form = factory.form(tool, KIND)

        # docxtpl template: the same full form, with {{ placeholders }} for every value.
        context0 = factory.context(allocs[0])
        tpl_bytes = form.document.render(placeholder_context(context0), form.identity("{{ audit.id }}").properties(key))
        tpl_path = tmp / "docxtpl_template.docx"
        tpl_path.write_bytes(tpl_bytes)
        tpl_xml = zipfile.ZipFile(tpl_path).read("word/document.xml").decode()
        missing = [p for p in ("{{ case.reference }}", "{{ audit.period }}", "{{ auditor.name }}") if p not in tpl_xml]
        if missing:
            print(f"WARNING: docxtpl template lacks {missing}; the baseline is not like for like")

        ours_dir, tpl_dir = tmp / "ours", tmp / "docxtpl"
        tpl_dir.mkdir()

        def ours_generate(i: int, alloc: Allocation) -> None:
            write_private(ours_dir / f"{i:04d}.docx", factory.render(alloc, KIND))

        def docxtpl_generate(i: int, alloc: Allocation) -> None:
            doc = DocxTemplate(tpl_path)
            doc.render(factory.context(alloc), autoescape=True)
            doc.save(tpl_dir / f"{i:04d}.docx")

        gen_ours, gen_tpl = Result(), Result()
        for _ in range(reps):  # interleaved, so drift in machine load hits both
            gen_ours.samples += per_form_ms(allocs, ours_generate)
            gen_tpl.samples += per_form_ms(allocs, docxtpl_generate)

        # Sanity: both outputs carry the case data; ours parses as the right audit.
        generated = [(ours_dir / f"{i:04d}.docx").read_bytes() for i in range(n)]
        probe = parse_bytes(generated[-1], "probe.docx", key)
        if probe.status != "ok" or probe.audit_id != allocs[-1].audit_id:
            print(f"WARNING: our generated form parses as {probe.status} / {probe.audit_id}")
        tpl_out = zipfile.ZipFile(tpl_dir / f"{n - 1:04d}.docx").read("word/document.xml").decode()
        if allocs[-1].case_reference not in tpl_out or "{{" in tpl_out:
            print("WARNING: docxtpl output does not hold the case data; the baseline is suspect")

        # Fill M forms Word-style, cycle them to N.
        fields = form.layout.fields
        t0 = time.perf_counter()
        filled, wanted = [], []
        for i in range(m):
            values = form_values(fields, random.Random(i))
            filled.append(fill_form(generated[i], values, WordStyle(seed=i)))
            wanted.append(values)
        fill_s = time.perf_counter() - t0
        corpus = [(f"return-{i:04d}.docx", filled[i % m]) for i in range(n)]

        wrong = 0
        for i in range(m):
            parsed = parse_bytes(filled[i], f"check-{i}.docx", key)
            if parsed.status != "ok":
                wrong += 1
                continue
            wrong += any(parsed.fields.get(fid) != expected(v) for fid, v in wanted[i].items())
        if wrong:
            print(f"WARNING: {wrong} of {m} filled forms did not parse back to the values filled in")
        controls = len(read_plain_lxml(filled[0]))

        parse_ours, parse_pydocx, parse_lxml = Result(), Result(), Result()
        readers: list[tuple[Result, Callable[[str, bytes], object]]] = [
            (parse_ours, lambda name, data: parse_bytes(data, name, key)),
            (parse_pydocx, lambda _name, data: read_python_docx(data)),
            (parse_lxml, lambda _name, data: read_plain_lxml(data)),
        ]
        clock = time.perf_counter
        # Interleaved form by form, each reader first in turn: this machine's speed drifts
        # by a quarter within a minute, and a ratio of runs taken seconds apart would
        # measure the drift.  The garbage collector is off while readers run (as in
        # timeit) and collects between forms: python-docx leaves reference cycles behind,
        # and whichever reader ran next would otherwise pay for collecting them.
        gc.collect()
        gc.freeze()  # the setup's objects: not scanned by every collection below
        gc.disable()
        for rep in range(reps):
            for i, (name, data) in enumerate(corpus):
                gc.collect()
                turn = (i + rep) % len(readers)
                for res, read in readers[turn:] + readers[:turn]:
                    t0 = clock()
                    read(name, data)
                    res.samples.append((clock() - t0) * 1000.0)
        gc.enable()
        gc.unfreeze()

    total_s = time.perf_counter() - started
    form_kb = len(generated[0]) / 1024
    print(
        f"\nform: {tool}/{KIND}, {len(fields)} fields, {controls} w:sdt, {form_kb:.1f} KB; "
        f"filling {m} forms took {fill_s:.1f} s (not timed below)"
    )
    print("median ms/form (mean in brackets)")
    rows = [
        ("prepare (once per tool type)", prep),
        ("generate: ours render + write", gen_ours),
        ("generate: docxtpl load + render + save", gen_tpl),
        ("parse: ours parse_bytes", parse_ours),
        ("parse: python-docx open + walk w:sdt", parse_pydocx),
        ("parse: zipfile + lxml walk w:sdt", parse_lxml),
    ]
    for label, res in rows:
        print(f"  {label:<40} {res.median:8.2f}  ({res.mean:.2f})")

    gen_ratio = gen_tpl.median / gen_ours.median
    pydocx_ratio = parse_pydocx.median / parse_ours.median
    lxml_ratio = parse_ours.median / parse_lxml.median
    print()
    print(
        f"generate  ours {gen_ours.median:.2f} ms/form   docxtpl {gen_tpl.median:.1f} ms/form   "
        + ratio_line("ratio", gen_ratio, ">=", 20)
    )
    print(f"          one-off preparation {prep.median:.0f} ms per tool type")
    print(
        f"parse     ours {parse_ours.median:.2f} ms/form   python-docx {parse_pydocx.median:.2f} ms/form   "
        + ratio_line("ratio", pydocx_ratio, ">=", 5)
    )
    print(
        f"parse     ours {parse_ours.median:.2f} ms/form   plain lxml {parse_lxml.median:.2f} ms/form   "
        + ratio_line("ours/lxml", lxml_ratio, "<=", 2)
    )
    ceiling = parse_pydocx.median / parse_lxml.median
    print(
        f"          (python-docx / plain lxml = {ceiling:.1f}x: the most any reader that parses "
        "document.xml with lxml can gain on python-docx here)"
    )
    print(f"CPUs {cpus} (usable {affinity}); total run {total_s:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
