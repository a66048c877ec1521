"""Streamlit's "magic" is off, and no page relies on it: everything a page shows goes through st.*."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [*sorted(ROOT.glob("pages/*.py")), ROOT / "app.py"]


def test_magic_is_disabled_in_the_config() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["magicEnabled"] is False


def _bare_expressions(tree: ast.Module) -> list[str]:
    """Expression statements that are neither calls nor docstrings: magic would draw them, without it they vanish."""
    found = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        documented = isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        for i, stmt in enumerate(body):
            if not isinstance(stmt, ast.Expr) or isinstance(stmt.value, ast.Call | ast.Await):
                continue
            if documented and i == 0 and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                continue
            found.append(f"line {stmt.lineno}: {ast.unparse(stmt)[:60]}")
    return found


def test_the_scan_finds_a_string_meant_as_a_comment() -> None:
    tree = ast.parse('"""Doc."""\nimport streamlit as st\nX = 1\n"""About X."""\nst.write(X)\nX\n')
    assert _bare_expressions(tree) == ["line 4: 'About X.'", "line 6: X"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_page_relies_on_magic(script: Path) -> None:
    assert _bare_expressions(ast.parse(script.read_text())) == []
