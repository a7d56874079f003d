"""The house: every import runs down the floors (docs/architecture.md), and no modules import each other in a circle.

Every ``import``/``from ... import`` in src/cart_outcomes counts, inside functions and ``TYPE_CHECKING`` blocks too.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "cart_outcomes"

#: Floor of each subpackage (a module may import from its own floor and the floors below). Top-level helpers
#: (errors, units, _version, _yaml, _text) are the ground every floor stands on. ``engine`` reads big sources like
#: ``cohort`` but returns ``stats.EventCounts``, so it stands on ``stats``.
FLOORS = {
    "_version": 0, "errors": 0, "units": 0, "_text": 0, "_yaml": 0, "_result": 0,
    "cohort": 1,
    "stats": 2,
    "engine": 3, "endpoints": 3, "toxicity": 3, "kinetics": 3,
    "results": 4,
    "report": 5, "export": 5,
    "plan": 6,
    "cli": 7, "app": 7, "__main__": 7, "__init__": 7,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = SRC.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(path: Path) -> set[str]:
    """Every cart_outcomes module ``path`` imports (relative imports resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cart_outcomes")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.startswith("cart_outcomes"):
                modules = {f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}")}
                found |= modules | ({base} if len(modules) < len(node.names) else set())
    return found - {module}


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    return {m: {i for i in _imports(p) if i in modules} for m, p in modules.items()}


def _floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS["__init__"] if len(parts) == 1 else FLOORS[parts[1]]


def test_every_subpackage_has_a_floor():
    tops = {p.stem if p.is_file() else p.name for p in SRC.iterdir()
            if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert tops <= set(FLOORS), sorted(tops - set(FLOORS))


def test_no_import_runs_up_a_floor():
    upward = sorted(f"{m} -> {i}" for m, targets in _graph().items() for i in targets
                    if m != "cart_outcomes" and _floor(i) > _floor(m))
    assert upward == []


def test_report_and_export_compute_nothing():
    """The report formats a RunResult and the export reshapes a run's files: neither imports statistics, clinical
    derivations, or the other."""
    below = ("stats", "endpoints", "toxicity", "kinetics")
    reach = sorted(f"{m} -> {i}" for m, targets in _graph().items()
                   if m.startswith(("cart_outcomes.report", "cart_outcomes.export"))
                   for i in targets if i.split(".")[1] in below or {m.split(".")[1], i.split(".")[1]} == {
                       "report", "export"})
    assert reach == []


def test_no_import_circle():
    graph = _graph()
    # a package's __init__ re-exporting its own modules is not a circle; a module importing its parent package is
    edges = {m: {i for i in t if not (m.startswith(i + ".") or i.startswith(m + "."))} for m, t in graph.items()}
    state: dict[str, int] = {}
    circles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(stack[stack.index(nxt):] + [node, nxt]) if nxt in stack else
                               f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, [*stack, node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert circles == []
