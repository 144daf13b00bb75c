"""The engine stays headless."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "core"


def test_core_never_imports_qt():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names
                          if n.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "player"}]
    assert offenders == []
