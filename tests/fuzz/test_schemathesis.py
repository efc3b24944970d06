"""Property-based fuzzing of the whole API from the committed ``openapi.yaml``: no input is a server error.

With authentication off every operation is exercised with generated bodies, paths and headers; with it on,
every CDS Hooks call without a valid client JWT must be a bare 401, whatever else the request holds
(OPTIONS aside: preflights are answered before authentication, as browsers send them without credentials).
Examples are derandomized and bounded, so a run is repeatable and quick.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from stratcare.api.app import create_app
from stratcare.settings import Settings

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"
STORE = Path(tempfile.mkdtemp(prefix="stratcare-fuzz-"))
FUZZ_SETTINGS = settings(
    max_examples=50,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def fuzzed_app(name: str, **overrides: Any) -> schemathesis.BaseSchema:
    """The committed document, sent to an app whose lifespan schemathesis starts (once per app)."""
    app = create_app(
        Settings(
            database_url=f"sqlite+aiosqlite:///{STORE / name}.db", writeback={"mode": "off"}, **overrides
        )
    )
    schema = schemathesis.openapi.from_path(OPENAPI)
    schema.app = app
    return schema


open_schema = fuzzed_app("open", auth="off")
secured_schema = fuzzed_app(
    "secured",
    auth="on",
    jwt_issuers={"https://ehr.example.org": {"jwks_url": "https://ehr.example.org/jwks"}},
)


@open_schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_is_a_server_error(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(checks=[not_a_server_error])


@secured_schema.include(path_regex="^/cds-services").parametrize()
@FUZZ_SETTINGS
def test_without_a_client_jwt_every_call_is_401(case: schemathesis.Case[Any]) -> None:
    for name in [name for name in (case.headers or {}) if name.lower() == "authorization"]:
        del case.headers[name]
    response = case.call()
    if case.method.upper() == "OPTIONS":
        # CORS preflights carry no credentials by design; a bare OPTIONS reaches no route and learns nothing.
        assert response.status_code in (200, 400, 405), response.status_code
        return
    assert response.status_code == 401, (case.method, response.status_code, response.text[:300])
    assert response.headers["www-authenticate"] == ["Bearer"]
