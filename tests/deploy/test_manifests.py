"""deploy/ is safe to run: probed web replicas under a disruption budget, workers that alone deliver, one
migration Job, pinned images, non-root pods with read-only roots, settings that parse, and no secret outside
a Secret."""

from __future__ import annotations

import re
import tomllib
from pathlib import PurePosixPath
from typing import Any

import pytest

from stratcare.settings import Settings
from stratcare.writeback.settings import WritebackSettings

from .manifests import (
    DEPLOY,
    ROOT,
    Manifest,
    containers,
    named,
    of_kind,
    pod_spec,
    rendered,
    settings_data,
    workloads,
)

WEB, WORKER, MIGRATE = "stratcare-web", "stratcare-worker", "stratcare-db-upgrade"
UPGRADE_ON_START = "STRATCARE_DATABASE_UPGRADE_ON_START"
"""Turns schema changes at start-up off in the web and worker pods; the Job alone migrates."""
SECRET_LOOKS = re.compile(r"-----BEGIN|\"d\"\s*:|://[^/@\s]+:[^/@\s]+@", re.IGNORECASE)


def project_version() -> str:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(pyproject["project"]["version"])


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def pod_labels(name: str) -> dict[str, str]:
    labels: dict[str, str] = named("Deployment", name)["spec"]["template"]["metadata"]["labels"]
    return labels


def environment_of(workload: Manifest) -> dict[str, Any]:
    """What the first container sees: the ConfigMap it loads, then its own ``env`` entries."""
    (container, *_) = containers(workload)
    seen: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        seen |= named("ConfigMap", source["configMapRef"]["name"])["data"]
    seen |= {item["name"]: item.get("value", item.get("valueFrom")) for item in container.get("env", [])}
    return seen


def setting_names() -> set[str]:
    flat = {f"STRATCARE_{name.upper()}" for name in Settings.model_fields if name != "writeback"}
    return flat | {f"STRATCARE_WRITEBACK_{name.upper()}" for name in WritebackSettings.model_fields}


class TestWebReplicas:
    def test_readiness_liveness_and_start_up_are_probed_on_health(self) -> None:
        (container,) = containers(named("Deployment", WEB))
        port_names = {port["name"] for port in container["ports"]}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            check = container[probe]["httpGet"]
            assert check["path"] == "/health", probe
            assert check["port"] in port_names, probe

    def test_liveness_gives_up_later_than_readiness(self) -> None:
        """A database blip takes a replica out of the Service long before it restarts it."""
        (container,) = containers(named("Deployment", WEB))

        def patience(probe: str) -> int:
            settings = container[probe]
            return int(settings["periodSeconds"]) * int(settings["failureThreshold"])

        assert patience("livenessProbe") > patience("readinessProbe")

    def test_several_replicas_roll_out_without_losing_one(self) -> None:
        web = named("Deployment", WEB)["spec"]
        assert web["replicas"] >= 2
        assert web["strategy"]["rollingUpdate"]["maxUnavailable"] == 0

    def test_the_disruption_budget_selects_the_web_pods_only(self) -> None:
        (budget,) = of_kind("PodDisruptionBudget")
        selector = budget["spec"]["selector"]["matchLabels"]
        assert labels_match(selector, pod_labels(WEB))
        assert not labels_match(selector, pod_labels(WORKER))
        assert budget["spec"]["maxUnavailable"] < named("Deployment", WEB)["spec"]["replicas"]

    def test_the_service_sends_to_the_web_port_of_web_pods_only(self) -> None:
        (service,) = of_kind("Service")
        assert labels_match(service["spec"]["selector"], pod_labels(WEB))
        assert not labels_match(service["spec"]["selector"], pod_labels(WORKER))
        (container,) = containers(named("Deployment", WEB))
        targets = {port["targetPort"] for port in service["spec"]["ports"]}
        assert targets <= {port["name"] for port in container["ports"]}

    def test_the_web_serves_on_all_interfaces_and_does_not_deliver(self) -> None:
        web = named("Deployment", WEB)
        (container,) = containers(web)
        assert container["command"][:2] == ["stratcare", "serve"]
        assert "0.0.0.0" in container["command"]
        assert environment_of(web)["STRATCARE_WRITEBACK_RUN_IN_PROCESS"] == "false"


class TestWorkersAndMigration:
    def test_workers_run_the_delivery_loop(self) -> None:
        (container,) = containers(named("Deployment", WORKER))
        assert container["command"] == ["stratcare", "worker"]
        assert named("Deployment", WORKER)["spec"]["replicas"] >= 1

    def test_one_job_upgrades_the_schema_and_no_pod_migrates_at_start_up(self) -> None:
        (job,) = of_kind("Job")
        (container,) = containers(job)
        assert container["command"] == ["stratcare", "db", "upgrade"]
        assert pod_spec(job)["restartPolicy"] == "Never"
        for name in (WEB, WORKER):
            assert environment_of(named("Deployment", name))[UPGRADE_ON_START] == "false", name


class TestPods:
    def test_every_container_requests_and_limits_cpu_and_memory(self) -> None:
        for workload in workloads():
            for container in containers(workload):
                resources = container["resources"]
                for bound in ("requests", "limits"):
                    assert set(resources[bound]) >= {"cpu", "memory"}, (workload["metadata"]["name"], bound)

    def test_images_are_pinned_to_this_release(self) -> None:
        images = {container["image"] for workload in workloads() for container in containers(workload)}
        (image,) = images
        assert image.endswith(f":{project_version()}")
        for workload in workloads():
            for container in containers(workload):
                assert container["imagePullPolicy"] == "IfNotPresent"

    def test_pods_run_as_non_root_with_a_read_only_root_and_no_privileges(self) -> None:
        for workload in workloads():
            spec = pod_spec(workload)
            assert spec["securityContext"]["runAsNonRoot"] is True
            assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
            assert spec["automountServiceAccountToken"] is False
            for container in containers(workload):
                context = container["securityContext"]
                assert context["readOnlyRootFilesystem"] is True
                assert context["allowPrivilegeEscalation"] is False
                assert context["capabilities"]["drop"] == ["ALL"]

    def test_the_only_writable_place_is_a_bounded_scratch_folder(self) -> None:
        for workload in workloads():
            volumes = {volume["name"]: volume for volume in pod_spec(workload)["volumes"]}
            for container in containers(workload):
                for mount in container["volumeMounts"]:
                    volume = volumes[mount["name"]]
                    if "emptyDir" in volume:
                        assert mount["mountPath"] == "/tmp"
                        assert volume["emptyDir"]["sizeLimit"]
                    else:
                        assert mount["readOnly"] is True, mount


class TestSettingsAndSecrets:
    def test_the_database_url_comes_from_a_secret(self) -> None:
        assert "STRATCARE_DATABASE_URL" not in settings_data()
        for workload in workloads():
            url = environment_of(workload)["STRATCARE_DATABASE_URL"]
            assert url["secretKeyRef"] == {"name": "stratcare-database", "key": "url"}

    def test_no_config_map_holds_a_secret(self) -> None:
        for config_map in of_kind("ConfigMap"):
            for key, value in config_map["data"].items():
                assert not SECRET_LOOKS.search(value), key

    def test_the_committed_secrets_are_empty_shapes(self) -> None:
        for secret in of_kind("Secret"):
            assert "data" not in secret
            assert set(secret["stringData"].values()) == {""}, secret["metadata"]["name"]

    def test_every_secret_a_pod_uses_is_in_the_base_with_that_key(self) -> None:
        keys = {secret["metadata"]["name"]: set(secret["stringData"]) for secret in of_kind("Secret")}
        for workload in workloads():
            for value in environment_of(workload).values():
                if isinstance(value, dict) and "secretKeyRef" in value:
                    assert value["secretKeyRef"]["key"] in keys[value["secretKeyRef"]["name"]]
            for volume in pod_spec(workload)["volumes"]:
                if "secret" in volume:
                    assert volume["secret"]["secretName"] in keys

    def test_the_key_files_the_settings_name_are_mounted_from_secrets(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The EHR's JWKS for checking its tokens; the Backend Services key for signing stratcare's own."""
        settings = settings_from_config_map(monkeypatch)
        files = [issuer.jwks_file for issuer in settings.jwt_issuers.values() if issuer.jwks_file]
        assert settings.writeback.backend_private_key_file is not None
        files.append(settings.writeback.backend_private_key_file)
        web = named("Deployment", WEB)
        secret_files = secret_files_of(web)
        for file in files:
            assert file is not None
            assert PurePosixPath(file) in secret_files, file
        assert PurePosixPath(str(settings.writeback.backend_private_key_file)) in secret_files_of(
            named("Deployment", WORKER)
        )

    def test_the_config_map_is_valid_settings(self, monkeypatch: pytest.MonkeyPatch) -> None:
        settings = settings_from_config_map(monkeypatch)
        assert settings.auth == "on"
        assert settings.writeback.backend_config() is not None
        assert set(settings_data()) <= setting_names()
        assert settings.database_upgrade_on_start is False

    def test_every_configured_setting_is_documented_in_the_deploy_readme(self) -> None:
        readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
        variables = {name for workload in workloads() for name in environment_of(workload)}
        assert [name for name in sorted(variables) if f"`{name}`" not in readme] == []


def settings_from_config_map(monkeypatch: pytest.MonkeyPatch) -> Settings:
    with monkeypatch.context() as patched:
        for name, value in settings_data().items():
            patched.setenv(name, value)
        patched.setenv("STRATCARE_DATABASE_URL", "postgresql+psycopg://stratcare@db.example.org/stratcare")
        return Settings(_env_file=None)


def secret_files_of(workload: Manifest) -> set[PurePosixPath]:
    """Paths at which the first container sees the keys of its secret volumes."""
    volumes = {volume["name"]: volume for volume in pod_spec(workload)["volumes"] if "secret" in volume}
    secrets = {secret["metadata"]["name"]: secret for secret in of_kind("Secret")}
    (container, *_) = containers(workload)
    found: set[PurePosixPath] = set()
    for mount in container["volumeMounts"]:
        if mount["name"] in volumes:
            secret = secrets[volumes[mount["name"]]["secret"]["secretName"]]
            found |= {PurePosixPath(mount["mountPath"]) / key for key in secret["stringData"]}
    return found


def test_the_base_names_each_resource_once() -> None:
    names = [(manifest["kind"], manifest["metadata"]["name"]) for manifest in rendered()]
    assert len(names) == len(set(names))
