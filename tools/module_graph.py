"""The shape of the code base, measured the same way each time (issue 23): the import graph between
OpenNRM's packages and modules, its cycles, the largest files and the longest functions.

    python tools/module_graph.py [--root opennrm] [--top 10]

Tests and migrations are left out: they are not part of the layered application. Every import counts,
at the top of a module or inside a function (an import inside a function hides a cycle, it does not end it);
an import under `if TYPE_CHECKING:` is for annotations only and runs nothing, so it is not counted.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path


def application_files(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts and path.name != "conftest.py"
    )


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, this_module: str, is_package: bool) -> list[tuple[str, bool]]:
    """(module, inside a function) for every import of the module's own code base."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                # For type annotations only: nothing is imported when the code runs (as import-linter is told).
                visit(ast.Module(body=child.orelse, type_ignores=[]), in_function)
                continue
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = this_module.split(".")
                    if not is_package:
                        base = base[:-1]
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                found.append((target, in_function))
                # `from opennrm import referrals` imports the package referrals.
                found.extend((f"{target}.{alias.name}", in_function) for alias in child.names)
            visit(child, nested)

    visit(tree, False)
    return found


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one node: each is a set of packages that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


def measure(root: Path, top: int) -> str:
    files = application_files(root)
    modules = {module_name(path, root): path for path in files}
    module_edges: dict[str, set[str]] = defaultdict(set)
    package_edges: dict[str, set[str]] = defaultdict(set)
    imports_in_functions = 0
    functions: list[tuple[int, str]] = []
    sizes: list[tuple[int, str]] = []
    long_lines = 0
    exception_classes: list[str] = []

    def package_of(module: str) -> str:
        parts = module.split(".")
        return parts[1] if len(parts) > 1 else parts[0]

    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        sizes.append((len(lines), str(path.relative_to(root.parent))))
        long_lines += sum(1 for line in lines if len(line) > 140)
        tree = ast.parse(text)
        for target, in_function in imported_modules(tree, name, path.name == "__init__.py"):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if not target or target == name:
                continue
            module_edges[name].add(target)
            if package_of(target) != package_of(name):
                package_edges[package_of(name)].add(package_of(target))
                imports_in_functions += in_function
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                functions.append((length, f"{path.relative_to(root.parent)}:{node.lineno} {node.name}"))
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, (ast.Name, ast.Attribute))
                and (getattr(base, "id", None) or getattr(base, "attr", "")).endswith(
                    ("Error", "Exception", "NotAllowed")
                )
                for base in node.bases
            ):
                exception_classes.append(f"{path.relative_to(root.parent)} {node.name}")

    mutual = sorted(
        {
            tuple(sorted((a, b)))
            for a, targets in package_edges.items()
            for b in targets
            if a in package_edges.get(b, ())
        }
    )
    package_cycles = strongly_connected(package_edges)
    module_cycles = strongly_connected(module_edges)
    out = [
        f"application modules: {len(modules)} ({sum(size for size, _ in sizes):,} "
        f"lines), packages: {len({package_of(m) for m in modules})}",
        f"package pairs that import each other: {len(mutual)}",
        *(f"  {a} <-> {b}" for a, b in mutual),
        f"package cycles (strongly connected sets): {len(package_cycles)}",
        *(f"  {' '.join(c)}" for c in package_cycles),
        f"imports between packages made inside a function: {imports_in_functions}",
        f"module cycles: {len(module_cycles)}"
        + (f", the largest of {max(map(len, module_cycles))} modules" if module_cycles else ""),
        *(f"  {' '.join(c)}" for c in module_cycles if len(c) <= 6),
        f"exception classes: {len(exception_classes)}",
        f"lines over 140 characters: {long_lines}",
        f"largest files (lines), top {top}:",
        *(f"  {size:5d} {path}" for size, path in sorted(sizes, reverse=True)[:top]),
        f"longest functions (lines), top {top}:",
        *(f"  {length:5d} {where}" for length, where in sorted(functions, reverse=True)[:top]),
    ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent / "opennrm"))
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    print(measure(Path(args.root).resolve(), args.top))


if __name__ == "__main__":
    main()
