"""The Kubernetes base under deploy/, read as ``kubectl apply -k deploy/`` would apply it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
Manifest = dict[str, Any]


def kustomization() -> Manifest:
    loaded: Manifest = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text(encoding="utf-8"))
    return loaded


def rendered() -> list[Manifest]:
    """Every resource of the base, in kustomization order: the render itself while the kustomization only
    lists resources (a test holds it to that)."""
    manifests: list[Manifest] = []
    for name in kustomization()["resources"]:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        manifests += [document for document in yaml.safe_load_all(text) if document is not None]
    return manifests


def of_kind(kind: str) -> list[Manifest]:
    return [manifest for manifest in rendered() if manifest["kind"] == kind]


def named(kind: str, name: str) -> Manifest:
    (manifest,) = [item for item in of_kind(kind) if item["metadata"]["name"] == name]
    return manifest


def workloads() -> list[Manifest]:
    """The resources that run pods."""
    return [manifest for manifest in rendered() if manifest["kind"] in ("Deployment", "Job")]


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Manifest) -> list[Manifest]:
    spec = pod_spec(workload)
    listed: list[Manifest] = spec["containers"] + spec.get("initContainers", [])
    return listed


def settings_data() -> dict[str, str]:
    data: dict[str, str] = named("ConfigMap", "stratcare-settings")["data"]
    return data
