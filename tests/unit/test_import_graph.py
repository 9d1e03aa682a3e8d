"""The import graph has one-way floors and no cycles.

Floors, lowest first: core ``rdp_exact`` ← training ``sae_train`` ← ``audit`` ← falsification ``proofs_check``
← orchestration ``rdp`` (sweeps, reproductions, demo) ← CLI ``rdp.cli``. A module may import its own floor or
lower ones, never a higher one; and no set of modules imports itself round a cycle. Imports inside functions
count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("rdp_exact", "sae_train", "audit", "proofs_check", "rdp")


def floor(module: str) -> int:
    """The floor of a module: 0 core … 5 CLI (``python -m rdp`` is a CLI entry point)."""
    if module in ("rdp.cli", "rdp.__main__") or module.startswith("rdp.cli."):
        return 5
    return {"rdp_exact": 0, "sae_train": 1, "audit": 2, "proofs_check": 3, "rdp": 4}[module.split(".")[0]]


def modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` file of the packages under ``root``."""
    out: dict[str, Path] = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def import_graph(mods: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module → the project modules it imports (``from a import b`` counts as ``a.b`` when that is a module)."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    src = ".".join(base + ([node.module] if node.module else []))
                else:
                    src = node.module or ""
                targets = [f"{src}.{a.name}" if f"{src}.{a.name}" in mods else src for a in node.names]
            for t in targets:
                while t and t not in mods:  # `import a.b.c` depends on the deepest project module named
                    t = t.rpartition(".")[0]
                if t and t != name:
                    graph[name].add(t)
    return graph


def upward_imports(graph: Mapping[str, set[str]]) -> list[tuple[str, str]]:
    """Edges from a lower floor to a higher one."""
    return sorted((a, b) for a, deps in graph.items() for b in deps if floor(b) > floor(a))


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycles() -> None:
    assert cycles(import_graph(modules(REPO))) == []


def test_no_upward_imports() -> None:
    assert upward_imports(import_graph(modules(REPO))) == []


def test_every_package_is_seen() -> None:
    mods = modules(REPO)
    assert {m.split(".")[0] for m in mods} == set(PACKAGES)
    assert "rdp.cli" in mods and "rdp_exact.solvers" in mods


def _tree(tmp: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    for pkg in PACKAGES:
        (tmp / pkg).mkdir(exist_ok=True)
        (tmp / pkg / "__init__.py").touch()
    return tmp


def test_checker_catches_an_added_upward_import(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "rdp_exact/core.py": "def f():\n    from audit import report  # lazy, still upward\n",
        "audit/report.py": "from rdp_exact import core\n",
        "rdp/cli/__init__.py": "",
    })
    graph = import_graph(modules(root))
    assert upward_imports(graph) == [("rdp_exact.core", "audit.report")]
    assert cycles(graph) == [["audit.report", "rdp_exact.core"]]


def test_checker_resolves_relative_and_dotted_imports(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "sae_train/models/a.py": "from . import b\nfrom ..data import x\n",
        "sae_train/models/b.py": "import rdp.cli.sub\n",
        "sae_train/models/__init__.py": "",
        "sae_train/data.py": "",
        "rdp/cli/__init__.py": "",
        "rdp/cli/sub.py": "",
    })
    graph = import_graph(modules(root))
    assert graph["sae_train.models.a"] == {"sae_train.models.b", "sae_train.data"}
    assert upward_imports(graph) == [("sae_train.models.b", "rdp.cli.sub")]
