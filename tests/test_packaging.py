"""What the installed package promises its users: inline types (PEP 561), in the source tree and the wheel."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_package_says_it_is_typed() -> None:
    assert files("stratcare").joinpath("py.typed").is_file()


def test_the_wheel_ships_the_whole_package_directory() -> None:
    """Hatch puts every file under a listed package in the wheel, so ``py.typed`` goes with the code."""
    wheel = tomllib.loads(PYPROJECT.read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["packages"] == ["src/stratcare"]
    assert not any("py.typed" in pattern for pattern in wheel.get("exclude", []))
