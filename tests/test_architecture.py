"""The import rules (README, "What is inside") that `lint-imports` (pyproject.toml) cannot check.

import-linter only sees importable packages, so app.py and pages/*.py (plain scripts that Streamlit
runs) are checked here from their syntax trees; and its ``acyclic_siblings`` contract compares the
children of a package with each other, so a circle through a package's own ``__init__`` (say
``lossviz.formula`` ↔ ``lossviz.formula._define``) is looked for here, over every module of lossviz.
Imports anywhere in a file count: inside functions and under ``if TYPE_CHECKING:`` too.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lossviz"
PAGES = ROOT / "pages"
SHARED_FIGURES = {"common", "live"}
"""figures modules that are no page's own: the layout helpers and the live-parameter builder."""
PAGES_WITHOUT_FIGURES = {"home": "lossviz/studies/home.py", "lessons": "lossviz/lessons/__init__.py"}
"""Pages that draw no chart, and the module that holds their data instead: home's presets, the lesson registry."""


def module_name(path: Path, root: Path = ROOT) -> str:
    """``lossviz/formula/_parse.py`` → ``lossviz.formula._parse``; a package's ``__init__.py`` → the package."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


LOSSVIZ_MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(
    path: Path, root: Path = ROOT, known: Collection[str] = LOSSVIZ_MODULES.keys()
) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in ``path`` (under ``root``), resolved to a ``known`` module where it names one.

    ``from a import b`` imports the module ``a.b`` when that is a known module, else ``a`` (``b`` is
    a name defined in ``a``); relative imports are resolved against ``path``'s package.
    """
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0]  # level 1: this package, 2: its parent, …
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield node.lineno, submodule if submodule in known else base


def runtime_requirements() -> set[str]:
    """The import names of requirements.txt's packages (each of them imports under its own name)."""
    names = set()
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower().replace("-", "_"))
    return names


def import_problem(module: str, allowed_third_party: set[str]) -> str | None:
    """Why a page or app.py may not import ``module``, or None if it may.

    They may import the standard library, the app's runtime requirements, and any public module of
    lossviz (ui, figures, studies, toolkit, core); never another page, app.py, tests or bench, and
    never a private (``_name``) module, which is its package's own business.
    """
    top = module.partition(".")[0]
    if top == "lossviz":
        if module not in LOSSVIZ_MODULES:
            return "no such lossviz module"
        if any(part.startswith("_") for part in module.split(".")):
            return "a private module: import what its package exports instead"
        return None
    if top in sys.stdlib_module_names or top in allowed_third_party:
        return None
    return "neither lossviz, the standard library nor a package of requirements.txt"


def entry_files() -> list[Path]:
    return [ROOT / "app.py", *sorted(PAGES.glob("*.py"))]


@pytest.mark.parametrize("path", entry_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_app_and_pages_import_only_what_they_may(path: Path) -> None:
    allowed = runtime_requirements()
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {module}: {why}"
        for line, module in imported_modules(path)
        if (why := import_problem(module, allowed)) is not None
    ]
    assert not problems, "\n".join(problems)


def test_the_import_check_can_fail() -> None:
    allowed = runtime_requirements()
    assert import_problem("pages.curves", allowed) is not None
    assert import_problem("app", allowed) is not None
    assert import_problem("lossviz.formula._parse", allowed) is not None
    assert import_problem("lossviz.no_such_module", allowed) is not None
    assert import_problem("lossviz.studies.curves", allowed) is None
    assert import_problem("streamlit", allowed) is None and import_problem("pathlib", allowed) is None


def test_every_page_has_its_study_and_figures_and_nothing_else_is_named_like_one() -> None:
    """Every page but those of :data:`PAGES_WITHOUT_FIGURES` has lossviz/studies/<page>.py and
    lossviz/figures/<page>.py; those have their data module instead."""
    pages = {p.stem for p in PAGES.glob("*.py")}
    studies = {p.stem for p in (PACKAGE / "studies").glob("*.py")} - {"__init__"}
    figures = {p.stem for p in (PACKAGE / "figures").glob("*.py")} - {"__init__"} - SHARED_FIGURES
    charted = pages - PAGES_WITHOUT_FIGURES.keys()
    missing = [f"lossviz/{floor}/{page}.py" for page in sorted(charted) for floor in ("studies", "figures")]
    missing += [module for page, module in PAGES_WITHOUT_FIGURES.items() if page in pages]
    missing = [m for m in missing if not (ROOT / m).is_file()]
    assert not missing, f"pages without their study or figures module: {missing}"
    assert studies <= pages, f"studies named like no page: {sorted(studies - pages)}"
    assert figures <= pages, f"figures named like no page: {sorted(figures - pages)}"


def import_graph(modules: dict[str, Path], root: Path = ROOT) -> dict[str, set[str]]:
    """module → the ``modules`` it imports (anywhere in its file)."""
    return {
        name: {m for _, m in imported_modules(path, root, modules.keys()) if m in modules and m != name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as [a, b, …, a], or None (iterative depth-first search)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = [start]
        on_path = {start}
        stack = [iter(sorted(graph[start]))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_no_import_circle_in_lossviz() -> None:
    graph = import_graph(LOSSVIZ_MODULES)
    assert "lossviz.engine" in graph["lossviz"]  # the graph sees real imports
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_circle_search_finds_package_lazy_and_type_checking_circles(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg.d import VALUE\n")
    (package / "d.py").write_text("from pkg import OTHER\n")  # a name of pkg/__init__.py: imports pkg
    (package / "a.py").write_text("def f():\n    from pkg import b\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.c import X\n")
    (package / "c.py").write_text("from . import a\n")
    graph = import_graph({module_name(p, tmp_path): p for p in package.glob("*.py")}, tmp_path)
    assert find_cycle(graph) == ["pkg", "pkg.d", "pkg"]
    graph["pkg.d"] = set()
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    graph["pkg.c"] = set()
    assert find_cycle(graph) is None
