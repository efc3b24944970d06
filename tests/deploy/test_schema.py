"""deploy/ is valid Kubernetes: every manifest of the base, validated offline (kubernetes-validate ships the
schemas) and strictly (unknown fields are errors) for the oldest supported and the newest known version."""

from __future__ import annotations

import copy
import socket
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from .manifests import DEPLOY, Manifest, kustomization, named, rendered

OLDEST_SUPPORTED = "1.33"
NEWEST_CHECKED = "1.37"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The schemas ship with the validator: validation must not need the network."""

    def refuse(*_: Any) -> None:
        raise OSError("no network while validating manifests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def validate(manifest: Manifest, version: str) -> None:
    kubernetes_validate.validate(manifest, version, strict=True)


def test_the_kustomization_lists_every_manifest_and_transforms_nothing() -> None:
    """So that what these tests read is exactly what `kubectl apply -k deploy/` applies; overlays of an
    installation transform it (image, namespace, replicas, secrets)."""
    base = kustomization()
    assert set(base) == {"apiVersion", "kind", "resources"}
    manifests = sorted(path.name for path in DEPLOY.glob("*.yaml") if path.name != "kustomization.yaml")
    assert sorted(base["resources"]) == manifests


@pytest.mark.parametrize("version", [OLDEST_SUPPORTED, NEWEST_CHECKED])
def test_every_manifest_is_valid_for(version: str) -> None:
    manifests = rendered()
    assert {manifest["kind"] for manifest in manifests} >= {
        "ConfigMap",
        "Deployment",
        "Job",
        "PodDisruptionBudget",
        "Secret",
        "Service",
    }
    for manifest in manifests:
        validate(manifest, version)


def test_the_validator_refuses_a_wrong_type_and_an_unknown_field() -> None:
    wrong_type = copy.deepcopy(named("Deployment", "stratcare-web"))
    wrong_type["spec"]["replicas"] = "3"
    unknown_field = copy.deepcopy(named("Deployment", "stratcare-web"))
    unknown_field["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    for manifest in (wrong_type, unknown_field):
        with pytest.raises(kubernetes_validate.ValidationError):
            validate(manifest, OLDEST_SUPPORTED)
