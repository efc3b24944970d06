"""The README documents every setting and names the two commands .ci/run and a new user rely on."""

from __future__ import annotations

from pathlib import Path

from stratcare.reports.settings import ReportSettings
from stratcare.settings import Settings
from stratcare.writeback.settings import WritebackSettings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _documented(variable: str) -> bool:
    if f"`{variable}`" in README:
        return True
    # Grouped rows such as `STRATCARE_WRITEBACK_BACKEND_CLIENT_ID`, `_TOKEN_URL` document each suffix.
    prefix, _, suffix = variable.rpartition("_")
    while prefix:
        if f"`_{suffix}`" in README and f"`{prefix}_" in README:
            return True
        prefix, _, head = prefix.rpartition("_")
        suffix = f"{head}_{suffix}"
    return False


def test_every_setting_is_in_the_configuration_table() -> None:
    variables = [
        f"STRATCARE_{name.upper()}" for name in Settings.model_fields if name not in ("writeback", "reports")
    ]
    variables += [f"STRATCARE_WRITEBACK_{name.upper()}" for name in WritebackSettings.model_fields]
    variables += [f"STRATCARE_REPORTS_{name.upper()}" for name in ReportSettings.model_fields]
    missing = [variable for variable in variables if not _documented(variable)]
    assert missing == []


def test_ci_runs_exactly_the_readme_test_command() -> None:
    assert "scripts/test" in README
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().endswith("scripts/test")
