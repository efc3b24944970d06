"""The report measures and their definitions import no transport, storage or web framework."""

from __future__ import annotations

import ast
from pathlib import Path

import stratcare

FORBIDDEN = ("fastapi", "httpx", "sqlalchemy", "starlette", "uvicorn")


def test_reports_package_imports_no_io() -> None:
    root = Path(stratcare.__file__).parent / "reports"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] in FORBIDDEN]
    assert offenders == []
