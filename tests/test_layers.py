"""The package's imports run one way (docs/architecture.md):

    base (errors, units, intervals, findings) -> acpi, firmware -> kernel
    -> machine -> plan -> advise -> pipeline, replay -> render
    -> live, capture, audit, examples -> commands -> cli

A module imports only from its own layer or the layers before it, the
import graph has no cycle, and every import inside a function says why.
Read from the source with ast, so the test sees exactly what the files say.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "sratplan"

LAYERS = [
    {"errors", "units", "intervals", "findings", "version", "inputs"},
    {"acpi", "firmware"},
    {"kernel"},
    {"machine"},
    {"plan"},
    {"advise"},
    {"pipeline", "replay"},
    {"render"},
    {"live", "capture", "audit", "examples"},
    {"commands"},
    {"cli", "__main__", ""},
]


def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        parts = p.relative_to(PKG).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _targets(mod: str, node) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name.removeprefix("sratplan.") if a.name.startswith("sratplan.") else
                ("" if a.name == "sratplan" else None) for a in node.names]
    if node.level == 0:
        if node.module == "sratplan" or (node.module or "").startswith("sratplan."):
            base = (node.module or "").removeprefix("sratplan").lstrip(".")
        else:
            return []
    else:
        here = mod.split(".") if mod else []
        if MODULES[mod].name != "__init__.py":
            here = here[:-1]
        here = here[:len(here) - (node.level - 1)]
        base = ".".join(here + ([node.module] if node.module else []))
    out = []
    for a in node.names:
        cand = f"{base}.{a.name}" if base else a.name
        out.append(cand if cand in MODULES else base)
    return out


def _imports():
    """(module, imported module, line, inside a function, comment) for every
    import of a sratplan module."""
    out = []
    for mod, path in MODULES.items():
        text = path.read_text()
        lines = text.splitlines()
        tree = ast.parse(text)
        funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        inner = {id(x) for f in funcs for x in ast.walk(f) if isinstance(x, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            line = lines[node.lineno - 1]
            comment = "#" in line or (node.lineno > 1 and lines[node.lineno - 2].strip().startswith("#"))
            for t in _targets(mod, node):
                if t is not None and t != mod:
                    out.append((mod, t, node.lineno, id(node) in inner, comment))
            if id(node) in inner and not any(t for t in _targets(mod, node) if t is not None):
                out.append((mod, None, node.lineno, True, comment))
    return out


def _layer(mod: str) -> int:
    top = mod.split(".")[0]
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"module sratplan.{mod} is in no layer of LAYERS")


def test_every_module_has_a_layer():
    for mod in MODULES:
        _layer(mod)


def test_imports_run_one_way():
    bad = [f"sratplan.{m} (layer {_layer(m)}) imports sratplan.{t} (layer {_layer(t)}), line {ln}"
           for m, t, ln, _inner, _c in _imports() if t is not None and _layer(t) > _layer(m)]
    assert not bad, "\n".join(bad)


def test_no_import_cycle():
    graph: dict[str, set] = {m: set() for m in MODULES}
    for m, t, _ln, inner, _c in _imports():
        if t is not None and t in graph and not inner:
            graph[m].add(t)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in graph[m]:
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_function_level_imports_say_why():
    bad = [f"sratplan.{m} line {ln}" for m, _t, ln, inner, comment in _imports() if inner and not comment]
    assert not bad, "imports inside functions without a comment saying why:\n" + "\n".join(bad)
