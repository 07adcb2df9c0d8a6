"""The layers of DEVELOPERS.md, checked on every import statement (type-only ones included):
two faces (handlers/, console/) over three domains (knowledge/, tracking/, scheduler/) over one
platform (bot/); the wiring (app/) on top, imported by nothing but run.py; no import circles."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Reminders (scheduler/) read progress from tracking/, so that domain sits one step above it.
LAYER = {"bot": 0, "knowledge": 1, "tracking": 1, "scheduler": 2, "handlers": 3, "console": 3, "app": 4}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for top in LAYER:
        for path in (ROOT / top).rglob("*.py"):
            mod = _module_name(path)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                else:
                    continue
                for name in names:
                    if name.split(".")[0] in LAYER:
                        graph[mod].add(name)
    return graph


def _known(graph: dict[str, set[str]]) -> set[str]:
    return set(graph) | {_module_name(p) for top in LAYER for p in (ROOT / top).rglob("*.py")}


def test_layers_import_only_downwards_or_within():
    bad = []
    for mod, targets in _imports().items():
        src = mod.split(".")[0]
        for target in targets:
            dst = target.split(".")[0]
            if dst == src:
                continue
            if LAYER[dst] >= LAYER[src]:
                bad.append(f"{mod} -> {target}")
    assert not bad, "imports against the layering:\n" + "\n".join(sorted(bad))


def test_no_import_circles_between_modules():
    graph = _imports()
    known = _known(graph)
    edges = {m: {t for t in ts if t in known and t != m} for m, ts in graph.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    # A package importing its own submodules from __init__ is not a circle worth failing on.
    real = [c for c in cycles if not all(c[0].startswith(x) or x.startswith(c[0]) for x in c)]
    assert not real, "import circles:\n" + "\n".join(" -> ".join(c) for c in real)
