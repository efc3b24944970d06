"""The OpenAPI document as YAML: ``openapi.yaml`` in the repository is this output, checked by a test."""

from __future__ import annotations

import yaml

from stratcare.api.app import create_app


def openapi_yaml() -> str:
    document = create_app().openapi()
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
