"""The demo reads like a product: cards rendered from their Markdown, JSON as JSON (highlighted on a
terminal only), the uuids an EHR sends back as feedback, the card's risk words in the written-back result,
and no internal ids."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from stratcare.content import default_content_root
from stratcare.demo.player import play
from stratcare.demo.render import render_card

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PLAN_FILE = "plan_definitions/PlanDefinition-start-back-stratified-care.json"
RISK_SCENARIOS = ("low-risk", "medium-risk", "high-risk")


async def demo_output(tmp_path: Path, *, terminal: bool, only: tuple[str, ...] = ()) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=terminal, highlight=False)
    code = await play(
        url=None, only=list(only), database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}", console=console
    )
    assert code == 0
    return out.getvalue()


@pytest.fixture
async def plain(tmp_path: Path) -> str:
    return await demo_output(tmp_path, terminal=False)


def action_ids(actions: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for action in actions:
        found |= {action["id"]} if "id" in action else set()
        found |= action_ids(action.get("action", []))
    return found


class TestPlainOutput:
    def test_no_escape_codes_when_not_a_terminal(self, plain: str) -> None:
        assert "\x1b[" not in plain

    def test_markdown_is_rendered_not_shown_raw(self, plain: str) -> None:
        assert "Screening results" in plain
        assert "**" not in plain
        assert "\n- STarT Back Screening Tool" not in plain
        assert "• STarT Back 7/9, psychosocial subscale" in plain

    def test_the_pain_platform_referral_is_one_button_for_request_and_task(self, plain: str) -> None:
        section = plain[plain.index("\npain-platform ") :]
        section = section[: section.index("Results written back")]
        assert "low-intensity" in section
        assert "create: ServiceRequest (draft, order): Pain Platform" in section
        assert "create: Task (requested, order)" in section
        assert "PHQ-9 7/27" in section

    def test_card_and_suggestion_uuids_are_shown_and_sent_back(self, plain: str) -> None:
        scenarios = plain[: plain.index("\npre-visit-journey ")]  # the journey has its own test
        cards = re.findall(rf"card ({UUID})", scenarios)
        suggestions = re.findall(rf"suggestion ({UUID})", scenarios)
        assert len(cards) == 13, (
            "one card per stratified-care scenario but the 412 (two for chronic high risk: NG59's combined "
            "programme too), one for the Pain Platform, two per spine-clinic step"
        )
        assert len(suggestions) >= 4
        sent = plain[plain.index("The EHR sends:") :]
        document = json.loads(sent[sent.index("{") : sent.index("stratcare answers")])
        assert {item["card"] for item in document["feedback"]} <= set(cards)
        accepted = document["feedback"][0]["acceptedSuggestions"][0]["id"]
        assert accepted in suggestions

    def test_feedback_answers_are_json(self, plain: str) -> None:
        first = plain[plain.index("the first delivery with HTTP 200:") :]
        body, _ = json.JSONDecoder().raw_decode(first[first.index("{") :])
        assert (body["stored"], body["duplicates"], body["refused"]) == (2, 0, 0)
        assert [item["result"] for item in body["items"]] == ["stored", "stored"]
        assert "'stored'" not in plain

    @pytest.mark.parametrize("risk", ["low", "medium", "high"])
    def test_the_written_back_risk_uses_the_cards_words(self, plain: str, risk: str) -> None:
        section = plain[plain.index(f"\n{risk}-risk ") :]
        section = section[: section.index("\n\n", section.index("Results written back"))]
        assert f"STarT Back {risk} risk" in section
        assert f"RiskAssessment STarT Back risk group: {risk} risk (STarT Back)" in section
        assert "likelihood" not in section


class TestTerminal:
    async def test_json_is_highlighted_on_a_terminal(self, tmp_path: Path) -> None:
        output = await demo_output(tmp_path, terminal=True, only=("high-risk", "medium-risk"))
        sent = output[output.index("The EHR sends:") :]
        assert re.search(r"\x1b\[[0-9;]*m\"card\"", sent), "JSON keys are styled"


class TestNoInternalIds:
    async def test_cards_show_no_pathway_action_ids_or_internal_codes(self, tmp_path: Path) -> None:
        import httpx

        from stratcare.api.app import create_app
        from stratcare.demo.scenarios import load_scenarios
        from stratcare.settings import Settings

        plan = json.loads((default_content_root() / PLAN_FILE).read_text(encoding="utf-8"))
        internal = action_ids(plan["action"])
        assert internal, "the plan names its actions"
        app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'ids.db'}", auth="off"))
        shown = io.StringIO()
        console = Console(file=shown, width=200)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
                for scenario in load_scenarios():
                    response = await http.post(f"/cds-services/{scenario.service}", json=scenario.request)
                    for card in response.json().get("cards", []):
                        console.print(render_card(card))
        text = shown.getvalue()
        assert not [
            action for action in internal if re.search(rf"(?<![\w-]){re.escape(action)}(?![\w-])", text)
        ]
        assert "stratcare.org/fhir" not in text


def test_the_demo_command_exits_0(tmp_path: Path) -> None:
    """What scripts/demo runs once installed; the output is plain text when piped."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stratcare.cli",
            "demo",
            "--database-url",
            f"sqlite+aiosqlite:///{tmp_path / 'd.db'}",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "STarT Back high risk" in done.stdout
    assert "\x1b[" not in done.stdout
    assert not [line for line in done.stdout.splitlines() if line != line.rstrip()]
