"""The package's import graph has no cycle and follows the layers of docs/design.md.

The graph is read statically, function-local imports included.

A cycle that "works" only because one side imports inside a function still ties the two modules
together: neither can be read, tested or moved alone. So every ``import`` statement counts,
wherever it sits. An edge goes to the module named by the statement (``from zedo_xr.a import b``
goes to ``zedo_xr.a.b`` when that is a module, else to ``zedo_xr.a``); the implicit import of
parent packages does not count, since every module would otherwise depend on ``zedo_xr``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "zedo_xr"
DESIGN = PACKAGE.parent / "docs" / "design.md"

# The layers of docs/design.md: a module imports only from lower layers or from its own subpackage.
LAYERS: dict[str, int] = {
    "zedo_xr._version": 1,
    "zedo_xr.camera": 1,
    "zedo_xr.data": 1,
    "zedo_xr.device": 1,
    "zedo_xr.schema": 1,
    "zedo_xr.skeleton": 2,
    "zedo_xr.datasets": 3,
    "zedo_xr.metrics": 3,
    "zedo_xr.prior": 3,
    "zedo_xr.io": 4,
    "zedo_xr.estimator": 5,
    "zedo_xr.viz": 6,
    "zedo_xr.demo": 7,
    "zedo_xr.accessor": 8,
    "zedo_xr.cli": 8,
    "zedo_xr": 9,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of a dotted name that is one of our modules."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def _imported(node: ast.AST, module: str, is_package: bool, modules: dict[str, Path]) -> list[str]:
    """Our modules an import statement loads (``from a import b`` loads ``a.b`` if a module)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative import: resolve against this module's package
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        names = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
        ]
    else:
        return []
    found = (_resolve(n, modules) for n in names if n.split(".")[0] == PACKAGE.name)
    return [m for m in found if m is not None and m != module]


def import_graph() -> dict[str, set[str]]:
    """``{module: modules it imports}`` over every module of ``zedo_xr``.

    Imports by string (``importlib.import_module`` in the package's lazy ``__getattr__``) are
    not edges: they run on attribute access, never at import time.
    """
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            graph[module].update(_imported(node, module, path.name == "__init__.py", modules))
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(components)


def _describe(graph: dict[str, set[str]], component: list[str]) -> str:
    members = set(component)
    edges = [f"  {a} -> {b}" for a in component for b in sorted(graph[a] & members)]
    return " <-> ".join(component) + "\n" + "\n".join(edges)


def test_graph_sees_function_local_and_from_imports():
    modules = {m: Path() for m in ("zedo_xr", "zedo_xr.a", "zedo_xr.a.b", "zedo_xr.c", "zedo_xr.x")}
    code = (
        "import numpy\nimport zedo_xr.c\n"
        "def f():\n    from zedo_xr.a import b, name\n    from zedo_xr.c import thing\n"
        "class K:\n    def g(self):\n        from .a.b import h\n        from . import x\n"
    )
    found = set()
    for node in ast.walk(ast.parse(code)):
        found.update(_imported(node, "zedo_xr.x", False, modules))
    assert found == {"zedo_xr.c", "zedo_xr.a.b", "zedo_xr.a"}  # never itself, never numpy
    graph = import_graph()
    assert "zedo_xr.schema" in graph["zedo_xr.metrics"]  # a top-level `from ... import`
    assert "zedo_xr.camera" in graph["zedo_xr.metrics"]  # imported inside pa_mpjpe


def test_find_cycles_reports_each_cycle_once():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": {"e"}}
    assert find_cycles(graph) == [["a", "b", "c"], ["e", "e2"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles in zedo_xr (every import counts, function-local too):\n" + (
        "\n".join(_describe(graph, c) for c in cycles)
    )


def _unit(module: str) -> str:
    """The top-level module or subpackage a module belongs to (``zedo_xr.io.bvh`` -> ``zedo_xr.io``)."""
    return ".".join(module.split(".")[:2])


def layer_violations(graph: dict[str, set[str]]) -> tuple[list[str], list[tuple[str, str]]]:
    """Modules without a layer, and edges that go sideways or up between layers."""
    unplaced = sorted({_unit(m) for m in graph} - set(LAYERS))
    bad = [
        (a, b)
        for a in sorted(graph)
        for b in sorted(graph[a])
        if _unit(a) in LAYERS
        and _unit(b) in LAYERS
        and _unit(a) != _unit(b)
        and LAYERS[_unit(b)] >= LAYERS[_unit(a)]
    ]
    return unplaced, bad


def test_layers():
    unplaced, bad = layer_violations(import_graph())
    assert not unplaced, f"modules without a layer: {unplaced}; add them to LAYERS here and to docs/design.md"
    assert not bad, "imports that go sideways or up the layers of docs/design.md:\n" + "\n".join(
        f"  {a} (layer {LAYERS[_unit(a)]}) -> {b} (layer {LAYERS[_unit(b)]})" for a, b in bad
    )


def documented_layers(text: str) -> dict[str, int]:
    """``{module: layer}`` from the numbered list of the ``## Layers`` section of design.md."""
    section = text.split("## Layers", 1)[-1].split("\n## ", 1)[0]
    layers: dict[str, int] = {}
    for item in re.finditer(r"^(\d+)\. (.*?)(?=^\d+\. |\n\n|\Z)", section, re.M | re.S):
        for name in re.findall(r"`([\w.]+)`", item.group(2)):
            module = name if name.startswith("zedo_xr") else f"zedo_xr.{name}"
            layers[module] = int(item.group(1))
    return layers


def test_design_document_lists_these_layers():
    documented = {m: n for m, n in documented_layers(DESIGN.read_text()).items() if m in LAYERS}
    assert documented == LAYERS, (
        "docs/design.md's layers differ from LAYERS here: "
        f"{ {m: (documented.get(m), n) for m, n in LAYERS.items() if documented.get(m) != n} }"
    )
