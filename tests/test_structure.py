"""The package's shape, measured: the size limits it is held to, and no import circle.

Read from the source with ``ast`` (nothing is imported), so a module that grows past a
limit, or an import that closes a circle, fails here whichever test happens to load it.
Function-level imports count as much as module-level ones (a lazy import only hides a
circle until the function runs), and so do ``lazy_module("glue_magics.x")`` calls.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "glue_magics"
MAX_CLASS_LINES = 300  # no class over this many lines (its span, decorators included)
MAX_MAGICS_LINES = 300  # magics.py stays under this

#: Import edges allowed although they close a circle, each with why a lazy import is the
#: only way.  Empty: there is none.
ALLOWED_CYCLE_EDGES: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:``: what it imports is never imported when the code runs."""
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, at any depth (functions, methods, branches), but for type-checking-only
    blocks."""
    for child in ast.iter_child_nodes(tree):
        if _type_checking_only(child):
            yield from (n for part in child.orelse for n in [part, *_nodes(part)])
            continue
        yield child
        yield from _nodes(child)


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports, at any level of its code."""
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in modules:  # glue_magics.x.Name -> glue_magics.x
            target = target.rpartition(".")[0]
        if target:
            found.add(target)

    for node in _nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package up
                package = _package_of(name, path).split(".")
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                add(sub if sub in modules else base)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_module":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                add(arg.value)
    # Naming the package itself orders nothing: Python has run its __init__ before any
    # of its modules (glue_magics.__version__, lazy_module).
    return {target for target in found if target != name and not name.startswith(target + ".")}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The graph's strongly connected parts of more than one module (Tarjan's)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if (node, target) in ALLOWED_CYCLE_EDGES:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                part.append(member)
                if member == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_in_the_package() -> None:
    found = cycles(import_graph())
    assert not found, "import circles (module-level or lazy): " + "; ".join(
        " <-> ".join(part) for part in found
    )


def test_the_cycle_finder_finds_a_lazy_circle(tmp_path: Path) -> None:
    """The measure can fail: a circle made only of a function-level import is found."""
    modules = {"glue_magics.a": tmp_path / "a.py", "glue_magics.b": tmp_path / "b.py"}
    modules["glue_magics.a"].write_text("from glue_magics.b import x\n")
    modules["glue_magics.b"].write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from glue_magics import c\n"
        "def f():\n    from glue_magics import a\n"
    )
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    assert graph == {"glue_magics.a": {"glue_magics.b"}, "glue_magics.b": {"glue_magics.a"}}
    assert cycles(graph) == [["glue_magics.a", "glue_magics.b"]]
    assert cycles({"glue_magics.a": {"glue_magics.b"}, "glue_magics.b": set()}) == []


def _class_spans() -> Iterator[tuple[str, int]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                yield f"{path.relative_to(PACKAGE.parent)}:{node.name}", node.end_lineno - first + 1


def test_no_class_over_the_limit() -> None:
    limit = MAX_CLASS_LINES
    spans = dict(_class_spans())
    assert spans, "no class found: the measure reads nothing"
    over = {name: lines for name, lines in spans.items() if lines > limit}
    assert not over, f"classes over {limit} lines: {over}"


def test_magics_module_under_the_limit() -> None:
    lines = len((PACKAGE / "magics.py").read_text().splitlines())
    assert lines < MAX_MAGICS_LINES, f"magics.py is {lines} lines"
