"""The package's shape: layers that import one way only, no import cycle, WordprocessingML
only in ``ooxml/``, python-docx never near a returned file, and the month's cycle at the top.

Every import counts, including those inside functions and under ``TYPE_CHECKING``: a lazy
import can no longer hide a cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import auditdocs

SRC = Path(__file__).resolve().parents[1] / "src" / "auditdocs"

#: Bottom to top: a module may import its own layer and the layers below it, never above.
#: A module belongs to the layer of its longest matching prefix.  The form's model
#: (``forms.layout``, ``forms.identity``), the allocation record and the finding are plain
#: data that the layers below ``forms`` and ``allocation`` pass around, so they sit low;
#: making and reading forms (``forms.generate``, ``forms.parse``) sit above the store.
LAYERS: list[tuple[str, ...]] = [
    ("auditdocs.errors", "auditdocs.text", "auditdocs.files", "auditdocs.processes"),
    ("auditdocs.config",),
    ("auditdocs.dates", "auditdocs.sheets"),
    ("auditdocs.forms.layout", "auditdocs.forms.identity", "auditdocs.allocation.record", "auditdocs.returns.findings"),
    ("auditdocs.ooxml",),
    ("auditdocs.store",),
    ("auditdocs.workspace",),
    ("auditdocs.allocation",),
    ("auditdocs.forms",),
    ("auditdocs.moderation",),
    ("auditdocs.returns",),
    ("auditdocs.mail",),
    ("auditdocs.reports",),
    ("auditdocs.sample",),
    ("auditdocs.cli", "auditdocs"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """Every auditdocs module ``name`` imports, wherever the import statement is."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            # `from package import module` imports the module; `from module import name`, the module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        out |= {t for t in targets if t in MODULES and t != name}
    return out


GRAPH = {name: imports_of(name) for name in MODULES}


def layer_of(name: str) -> int:
    best = max(
        ((len(prefix), n) for n, layer in enumerate(LAYERS) for prefix in layer
         if name == prefix or name.startswith(prefix + ".")),
        default=None,
    )
    assert best is not None, f"{name}: in no layer; add it to LAYERS"
    return best[1]


def test_every_module_has_a_layer():
    for name in MODULES:
        layer_of(name)


def test_imports_never_go_up_a_layer():
    upward = [
        f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})"
        for name, targets in GRAPH.items()
        for target in targets
        if layer_of(target) > layer_of(name)
    ]
    assert not upward, "\n".join(upward)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle():
    assert cycles(GRAPH) == []


def test_the_cycle_check_finds_a_lazy_import_cycle():
    """The checks above would fail on what they are for."""
    graph = {**GRAPH, "auditdocs.workspace": GRAPH["auditdocs.workspace"] | {"auditdocs.returns.ingest"}}
    assert any("auditdocs.workspace" in c and "auditdocs.returns.ingest" in c for c in cycles(graph))
    assert layer_of("auditdocs.workspace") < layer_of("auditdocs.returns.ingest")


def test_at_most_eight_modules_at_the_top():
    top = sorted(p.stem for p in SRC.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(top) <= 8, top


def test_wordprocessingml_only_in_ooxml():
    """Above ``ooxml/`` code speaks of forms, fields and grades: no WordprocessingML names,
    no namespace module, no python-docx element helpers."""
    pattern = re.compile(r"""["'{]w:|\bqn\(|ooxml\.namespaces|ooxml import namespaces|docx\.oxml""")
    leaks = [
        f"{name}: {line.strip()}"
        for name, path in MODULES.items()
        if not name.startswith("auditdocs.ooxml")
        for line in path.read_text(encoding="utf-8").splitlines()
        if pattern.search(line)
    ]
    assert not leaks, "\n".join(leaks)


def test_python_docx_never_opens_a_returned_file():
    """Only the default templates (our own) and docxtpl (our templates) use python-docx;
    returned files are read with zipfile and hardened lxml only."""
    users = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if re.search(r"^\s*(from docx\b|import docx\b|from docxtpl\b|import docxtpl\b)", path.read_text(), re.M)
    }
    generation = {u for u in users if u in ("ooxml/defaults.py", "ooxml/template.py") or u.startswith("reports/")}
    assert users == generation, users - generation
    ooxml = [str(p.relative_to(SRC)) for p in (SRC / "ooxml").glob("*.py") if p.stem != "template"]
    readers = ["forms/parse.py", *ooxml]
    for reader in [*readers, *(str(p.relative_to(SRC)) for p in (SRC / "returns").glob("*.py"))]:
        if reader == "ooxml/defaults.py":
            continue  # builds our own default templates with python-docx; never reads a return
        assert not re.search(r"\bDocument\(|(?<![.\w])docx\.[A-Za-z]|docxtpl", (SRC / reader).read_text()), reader


def test_errors_are_all_in_errors_py_and_no_runtime_assert():
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            assert not isinstance(node, ast.Assert), f"{name}:{node.lineno}: assert as a runtime check"
            if isinstance(node, ast.ClassDef) and name != "auditdocs.errors":
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                assert not bases & {"AuditDocsError", "Exception"} or node.name.startswith("_"), (
                    f"{name}: {node.name}: error classes live in auditdocs/errors.py"
                )


@pytest.mark.parametrize(
    "name",
    ["init", "allocate", "generate", "send", "ingest", "parse", "status", "chase", "monthly_report",
     "quarterly_report", "Workspace", "AuditDocsError"],
)
def test_the_months_cycle_is_exported(name):
    value = getattr(auditdocs, name)
    assert name in auditdocs.__all__
    assert callable(value)
    if isinstance(value, type):
        return
    hints = value.__annotations__
    assert "return" in hints and hints["return"] not in (None, "None"), f"{name} returns nothing typed"
