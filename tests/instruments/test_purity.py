"""The clinical core imports no transport, storage or web framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import stratcare

FORBIDDEN = ("fastapi", "httpx", "sqlalchemy", "starlette", "uvicorn")
PURE_PACKAGES = ("instruments", "pathways")


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_packages_import_no_io(package: str) -> None:
    root = Path(stratcare.__file__).parent / package
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] in FORBIDDEN]
    assert offenders == []
