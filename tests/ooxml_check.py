"""Checks the tests run over every Office file auditdocs writes.

- Microsoft's Open XML SDK validator (npm ``@ooxml-tools/validate``, installed in
  ``tests/ooxml-validator`` by ``.ci/run``): zero schema or semantic errors, apart from
  the findings listed in FALSE_POSITIVES with the schema's reason.
- Every data-bound control's XML node holds what the control shows (Word shows the node).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from auditdocs.ooxml.binding import stale_nodes

VALIDATOR = Path(__file__).parent / "ooxml-validator"
NODE = shutil.which("node")

#: Validator findings that are not errors by ISO/IEC 29500, each with the reason.
FALSE_POSITIVES: list[tuple[str, re.Pattern[str], str]] = [
    (
        "Sch_UnexpectedElementContentExpectingComplex",
        re.compile(r"^/x:styleSheet\[1\]/x:fonts\[1\]/x:font\[\d+\]$"),
        "openpyxl writes a font's children (name, family, color, sz, scheme) in another order than "
        "Office does; ISO/IEC 29500-1 §18.8.22 defines CT_Font as an unbounded xsd:choice, so any "
        "order is valid (Excel opens these files without a repair)",
    ),
]


def needs_validator() -> None:
    ready = NODE is not None and (VALIDATOR / "node_modules" / "@ooxml-tools" / "validate").is_dir()
    if not ready:
        if os.environ.get("AUDITDOCS_REQUIRE_VALIDATOR") == "1":
            pytest.fail("the Open XML validator is not installed (npm ci --prefix tests/ooxml-validator)")
        pytest.skip("the Open XML validator is not installed (npm ci --prefix tests/ooxml-validator)")


def _false_positive(error: dict) -> bool:
    return any(
        error.get("id") == code and pattern.match(error.get("path", {}).get("xpath", ""))
        for code, pattern, _reason in FALSE_POSITIVES
    )


def validation_errors(paths: list[Path]) -> dict[str, list[str]]:
    """Each file's validator errors (false positives left out), as lines; both cores used."""
    needs_validator()
    assert NODE is not None
    files = [str(p) for p in paths]
    halves = [files[0::2], files[1::2]]
    procs = [
        subprocess.Popen(
            [NODE, str(VALIDATOR / "validate-many.mjs"), *half],
            cwd=VALIDATOR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for half in halves
        if half
    ]
    results: dict[str, list[str]] = {}
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
        for line in out.splitlines():
            record = json.loads(line)
            results[record["file"]] = [
                f"{e['id']} at {e['path']['partUri']}{e['path']['xpath']}: {e['description']}"
                for e in record["errors"]
                if not _false_positive(e)
            ]
    assert set(results) == set(files), "the validator skipped files"
    return results


def check_office_files(paths: list[Path]) -> None:
    """Every file validates, and every .docx keeps its bound nodes equal to its body."""
    assert paths
    problems = [f"{p}: {line}" for p in paths if p.suffix == ".docx" for line in stale_nodes(p.read_bytes())]
    problems += [f"{name}: {line}" for name, lines in validation_errors(paths).items() for line in lines]
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} in all)"


def office_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".docx", ".xlsx") and p.is_file())
