"""The layout keeps the design: data flows one way through the stages, without circles.

Every module under ``src/suoja`` is parsed with ``ast``; every import counts, inside
functions and ``TYPE_CHECKING`` blocks too, relative imports resolved. Importing
``a.b.c`` from outside package ``a.b`` runs ``a.b``'s ``__init__`` first, so that counts as
an import of ``a.b`` as well (the root ``suoja/__init__``, the public API, is the top).
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
STAGES = ("register", "tables", "protect", "release", "review")
"""The stages in the order data flows: each may import the ones before it, never after."""
BASE = {"suoja.errors", "suoja._resources", "suoja._toml", "suoja._version", "suoja.codelists"}
"""Shared by every stage; they import only each other."""
TOP = {"suoja", "suoja.__main__", "suoja.cli", "suoja.cli_support", "suoja.cli_cube",
       "suoja.pipeline", "suoja.table_pipeline"}
"""The front doors: they run the stages and may import anything."""
RANK_OF = {"suoja.policy": "protect"}
"""Top-level modules that belong to a stage: the policy builds the protect stage's rules
(``SuppressionRules``, DP settings) and only protect and later stages read it."""
SIDE = {"suoja.synth"}
"""Packages beside the stages: they import only base modules; only the top imports them."""
NEVER = {("release", "register"), ("review", "register")}
"""Pairs of stages never linked, however far apart: what is written never sees the register."""
MAX_LINES = 450


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in sorted((SRC / "suoja").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


MODULES = _modules()


def _targets(module: str, package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if package else module.split(".")[:-1]
        base = base[:len(base) - node.level + 1]
        prefix = ".".join([*base, node.module] if node.module else base)
    else:
        prefix = node.module or ""
    return [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix
            for a in node.names]


def _with_packages(module: str, target: str) -> set[str]:
    """``target`` and every package ``__init__`` importing it runs that ``module`` is not in."""
    names = {target}
    parts = target.split(".")
    for i in range(2, len(parts)):
        package = ".".join(parts[:i])
        if package in MODULES and not (module + ".").startswith(package + "."):
            names.add(package)
    return names


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module, (path, package) in MODULES.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(module, package, node):
                    while target not in MODULES and "." in target:
                        target = target.rsplit(".", 1)[0]
                    if target in MODULES and target != module and target.startswith("suoja"):
                        edges |= _with_packages(module, target) - {module}
        graph[module] = edges
    return graph


GRAPH = _graph()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _place(module: str) -> str:
    """``base``, ``top``, ``side`` or the name of the module's stage."""
    if module in BASE:
        return "base"
    if module in TOP:
        return "top"
    if module in RANK_OF:
        return RANK_OF[module]
    for side in SIDE:
        if module == side or module.startswith(side + "."):
            return "side"
    stage = module.split(".")[1]
    assert stage in STAGES, f"{module} is in no stage: add it to a stage package or the lists"
    return stage


def _allowed(source: str, target: str) -> bool:
    a, b = _place(source), _place(target)
    if a == "top" or b == "base":
        return True
    if a in ("base", "side") or b in ("top", "side"):
        return a == b == "side"
    return STAGES.index(b) <= STAGES.index(a) and (a, b) not in NEVER


def test_the_graph_sees_the_known_links() -> None:
    """A sanity check of the parser: lazy, relative and package imports are all found."""
    assert "suoja.protect.release_audit" in GRAPH["suoja.pipeline"]  # inside a function
    assert "suoja.register.reader" in GRAPH["suoja.register.validate"]
    assert "suoja.register" in GRAPH["suoja.tables.populations"]  # the package's __init__
    assert len(GRAPH) == len(MODULES) > 80


def test_no_import_circle() -> None:
    assert _cycles(GRAPH) == []


def test_a_circle_would_be_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_run_down_the_stages() -> None:
    upward = sorted(f"{m} -> {t} ({_place(m)} imports {_place(t)})"
                    for m, targets in GRAPH.items() for t in targets if not _allowed(m, t))
    assert upward == []


@pytest.mark.parametrize(("source", "target", "allowed"), [
    ("suoja.release.write", "suoja.protect.protected", True),
    ("suoja.protect.officer", "suoja.release.write", False),
    ("suoja.review.render", "suoja.register.reader", False),
    ("suoja.protect.pooling", "suoja.pipeline", False),
    ("suoja.codelists", "suoja.tables.catalogue", False),
])
def test_the_stage_rule(source: str, target: str, allowed: bool) -> None:
    assert _allowed(source, target) is allowed


def test_no_two_modules_share_a_name() -> None:
    names = Counter(path.stem for path, package in MODULES.values() if not package)
    names.update(module.rsplit(".", 1)[-1] for module, (_, package) in MODULES.items()
                 if package and module != "suoja")
    assert sorted(name for name, n in names.items() if n > 1) == []


def test_no_module_is_too_long() -> None:
    long = sorted(f"{path.relative_to(SRC)}: {n} lines" for path, _ in MODULES.values()
                  if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES)
    assert long == []
