"""A user's start-up mistake ends the command with one sentence naming the setting or file, never a
traceback, and with the exit code the README documents for its kind."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from stratcare.cli import app
from stratcare.content import default_content_root
from stratcare.startup import EXIT_CONTENT, EXIT_KEY_FILE, EXIT_SETTINGS, EXIT_STORE, EXIT_USAGE

PLAN_FILE = "plan_definitions/PlanDefinition-start-back-stratified-care.json"
CONTENT_FOLDERS = ("hooks", "questionnaires", "plan_definitions", "terminology")


def invoke(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(app, args, env=env)


def one_line_error(result: Result, exit_code: int) -> str:
    """The single line on stderr; the test fails on a traceback, several lines or another exit code."""
    assert result.exit_code == exit_code, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def content_copy(tmp_path: Path, edit: Callable[[Path], None] | None = None) -> Path:
    root = default_content_root()
    for folder in CONTENT_FOLDERS:
        shutil.copytree(root / folder, tmp_path / "content" / folder)
    if edit is not None:
        edit(tmp_path / "content")
    return tmp_path / "content"


def edit_plan(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def edit(content: Path) -> None:
        plan = json.loads((content / PLAN_FILE).read_text(encoding="utf-8"))
        change(plan)
        (content / PLAN_FILE).write_text(json.dumps(plan), encoding="utf-8")

    return edit


class TestSettings:
    def test_an_unknown_auth_mode_names_the_variable(self) -> None:
        line = one_line_error(invoke(["serve"], {"STRATCARE_AUTH": "maybe"}), EXIT_SETTINGS)
        assert line == "error: invalid setting STRATCARE_AUTH: Input should be 'on' or 'off'"

    def test_a_bad_nested_setting_names_its_whole_variable(self) -> None:
        line = one_line_error(invoke(["serve"], {"STRATCARE_WRITEBACK_MODE": "sometimes"}), EXIT_SETTINGS)
        assert line.startswith("error: invalid setting STRATCARE_WRITEBACK_MODE: ")

    def test_a_rule_across_a_groups_settings_names_the_group(self) -> None:
        env = {"STRATCARE_WRITEBACK_BACKEND_CLIENT_ID": "stratcare"}
        line = one_line_error(invoke(["serve"], env), EXIT_SETTINGS)
        assert line.startswith("error: invalid setting STRATCARE_WRITEBACK_*: backend services needs ")

    def test_json_that_does_not_parse_names_the_variable(self) -> None:
        line = one_line_error(invoke(["serve"], {"STRATCARE_JWT_ISSUERS": "{not json"}), EXIT_SETTINGS)
        assert line == "error: invalid setting STRATCARE_JWT_ISSUERS: not valid JSON"

    def test_the_value_is_never_echoed(self) -> None:
        line = one_line_error(invoke(["worker"], {"STRATCARE_FHIR_TIMEOUT_SECONDS": "s3cret"}), EXIT_SETTINGS)
        assert "STRATCARE_FHIR_TIMEOUT_SECONDS" in line
        assert "s3cret" not in line

    def test_the_installed_command_prints_no_traceback(self) -> None:
        """The real process, as a user runs it (typer's runner would hide a pretty-printed traceback)."""
        command = [sys.executable, "-m", "stratcare.cli", "serve"]
        done = subprocess.run(
            command, env={"STRATCARE_AUTH": "maybe"}, capture_output=True, text=True, check=False, timeout=60
        )
        assert done.returncode == EXIT_SETTINGS
        assert done.stderr == "error: invalid setting STRATCARE_AUTH: Input should be 'on' or 'off'\n"


class TestStore:
    def test_a_url_that_does_not_parse_is_one_line(self) -> None:
        line = one_line_error(invoke(["serve"], {"STRATCARE_DATABASE_URL": "not a url"}), EXIT_STORE)
        assert line.startswith("error: STRATCARE_DATABASE_URL: cannot open the store at 'not a url'")

    def test_an_unreachable_server_is_one_line_without_the_password(self) -> None:
        url = "postgresql+psycopg://someone:hunter2@127.0.0.1:9/stratcare"
        line = one_line_error(invoke(["serve"], {"STRATCARE_DATABASE_URL": url}), EXIT_STORE)
        assert "STRATCARE_DATABASE_URL" in line
        assert "127.0.0.1" in line
        assert "hunter2" not in line

    def test_the_worker_reports_the_store_the_same_way(self) -> None:
        line = one_line_error(invoke(["worker", "--once", "--database-url", "mysql://db/x"], {}), EXIT_STORE)
        assert "unsupported database driver 'mysql'" in line


class TestContent:
    def test_a_content_dir_that_does_not_exist_names_the_setting(self, tmp_path: Path) -> None:
        missing = tmp_path / "nowhere"
        line = one_line_error(invoke(["serve"], {"STRATCARE_CONTENT_DIR": str(missing)}), EXIT_CONTENT)
        assert line == f"error: STRATCARE_CONTENT_DIR: {missing} is not a folder"

    def test_a_content_dir_without_a_folder_names_it(self, tmp_path: Path) -> None:
        content = content_copy(tmp_path, lambda root: shutil.rmtree(root / "hooks"))
        line = one_line_error(invoke(["serve"], {"STRATCARE_CONTENT_DIR": str(content)}), EXIT_CONTENT)
        assert line == f"error: STRATCARE_CONTENT_DIR: {content} has no hooks/"

    def test_a_file_that_is_not_json_is_named(self, tmp_path: Path) -> None:
        def break_file(root: Path) -> None:
            (root / PLAN_FILE).write_text('{"resourceType": "PlanDefinition",', encoding="utf-8")

        content = content_copy(tmp_path, break_file)
        line = one_line_error(invoke(["serve"], {"STRATCARE_CONTENT_DIR": str(content)}), EXIT_CONTENT)
        assert f"{content / PLAN_FILE}: cannot read JSON" in line

    def test_a_code_outside_its_required_binding_names_file_and_element(self, tmp_path: Path) -> None:
        content = content_copy(tmp_path, edit_plan(lambda plan: plan.update(status="bogus")))
        line = one_line_error(invoke(["serve"], {"STRATCARE_CONTENT_DIR": str(content)}), EXIT_CONTENT)
        assert line == (
            f"error: invalid content: {content / PLAN_FILE}: invalid PlanDefinition: PlanDefinition.status: "
            "'bogus' is not one of draft, active, retired, unknown"
        )

    def test_a_nested_code_is_checked_too(self, tmp_path: Path) -> None:
        def bad_behaviour(plan: dict[str, Any]) -> None:
            plan["action"][1]["selectionBehavior"] = "pick-one"

        content = content_copy(tmp_path, edit_plan(bad_behaviour))
        line = one_line_error(invoke(["serve"], {"STRATCARE_CONTENT_DIR": str(content)}), EXIT_CONTENT)
        assert "PlanDefinition.action[1].selectionBehavior: 'pick-one' is not one of any, all," in line

    def test_a_structural_error_is_one_line_with_its_element(self, tmp_path: Path) -> None:
        content = content_copy(tmp_path, edit_plan(lambda plan: plan.update(date="last tuesday")))
        line = one_line_error(invoke(["serve"], {"STRATCARE_CONTENT_DIR": str(content)}), EXIT_CONTENT)
        assert f"{content / PLAN_FILE}: invalid PlanDefinition: PlanDefinition.date: " in line


class TestKeyFiles:
    def test_a_missing_jwks_file_names_the_issuer_and_file(self, tmp_path: Path) -> None:
        missing = tmp_path / "ehr-jwks.json"
        issuers = json.dumps({"https://ehr.example.org": {"jwks_file": str(missing)}})
        line = one_line_error(invoke(["serve"], {"STRATCARE_JWT_ISSUERS": issuers}), EXIT_KEY_FILE)
        issuer = "https://ehr.example.org"
        expected = f"error: STRATCARE_JWT_ISSUERS: the jwks_file of {issuer} ({missing}) cannot be read"
        assert line.startswith(expected)

    def test_a_jwks_file_that_is_not_a_key_set_is_refused(self, tmp_path: Path) -> None:
        not_a_set = tmp_path / "ehr-jwks.json"
        not_a_set.write_text('{"kty": "EC"}', encoding="utf-8")
        issuers = json.dumps({"https://ehr.example.org": {"jwks_file": str(not_a_set)}})
        line = one_line_error(invoke(["serve"], {"STRATCARE_JWT_ISSUERS": issuers}), EXIT_KEY_FILE)
        assert line.endswith('is not a JWK Set (no "keys" list)')

    @pytest.mark.parametrize("command", [["serve"], ["worker", "--once"]])
    def test_an_unreadable_backend_key_is_named(self, tmp_path: Path, command: list[str]) -> None:
        key_file = tmp_path / "backend-key.pem"
        key_file.write_text("not a key", encoding="utf-8")
        env = {
            "STRATCARE_WRITEBACK_BACKEND_CLIENT_ID": "stratcare",
            "STRATCARE_WRITEBACK_BACKEND_TOKEN_URL": "https://ehr.example.org/token",
            "STRATCARE_WRITEBACK_BACKEND_PRIVATE_KEY_FILE": str(key_file),
            "STRATCARE_WRITEBACK_BACKEND_KEY_ID": "key-1",
            "STRATCARE_WRITEBACK_EHR_BASE_URL": "https://ehr.example.org/fhir",
        }
        line = one_line_error(invoke(command, env), EXIT_KEY_FILE)
        assert line.startswith(
            f"error: STRATCARE_WRITEBACK_BACKEND_PRIVATE_KEY_FILE: {key_file} is not a readable private key"
        )


def test_usage_errors_keep_the_parsers_exit_code() -> None:
    assert invoke(["serve", "--port", "eighty"], {}).exit_code == EXIT_USAGE
