"""openapi.yaml is the app's own OpenAPI document (regenerate: `stratcare openapi --output openapi.yaml`)."""

from __future__ import annotations

from pathlib import Path

import yaml

from stratcare.api.app import create_app

OPENAPI_FILE = Path(__file__).resolve().parents[1] / "openapi.yaml"


def test_openapi_yaml_matches_the_app() -> None:
    committed = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
    assert committed == create_app().openapi(), (
        "openapi.yaml has drifted from the app: run `stratcare openapi --output openapi.yaml`"
    )


def test_every_cds_hooks_endpoint_is_documented() -> None:
    paths = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))["paths"]
    assert set(paths["/cds-services"]) == {"get"}
    assert set(paths["/cds-services/{service_id}"]) == {"post"}
    assert set(paths["/cds-services/{service_id}/feedback"]) == {"post"}
    assert {"400", "404", "412"} <= set(paths["/cds-services/{service_id}"]["post"]["responses"])
