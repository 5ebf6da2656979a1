"""Every Kubernetes object the project declares validates against the upstream OpenAPI schema
of the stack's Kubernetes version (kubernetes-validate ships those schemas)."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest

from infra.config.load import load_config
from infra.plan.engine import SECRET
from infra.plan.stackfiles import read_stack
from infra.versions import KUBERNETES_VERSIONS as SUPPORTED_KUBERNETES_VERSIONS
from tests.conftest import CUSTOM_GROUPS, STACKS, k8s_objects


def _schema_ready(manifest: dict[str, Any]) -> dict[str, Any]:
    """Auto-named objects get their name from Pulumi at deploy time; give the schema one."""
    manifest = copy.deepcopy(manifest)
    manifest["metadata"].setdefault("name", "auto-named")
    if manifest.get("stringData") == SECRET:
        manifest["stringData"] = {"redacted": SECRET}
    return manifest


@pytest.mark.parametrize("version", SUPPORTED_KUBERNETES_VERSIONS)
def test_every_supported_version_has_a_schema(version: str) -> None:
    assert f"{version}.0" in kubernetes_validate.utils.all_versions()


@pytest.mark.parametrize("stack", STACKS)
def test_declared_objects_match_the_kubernetes_schema(
    snapshots: dict[str, Any], stack: str
) -> None:
    version = load_config(stack, *read_stack(stack)).kubernetes_version
    checked = 0
    for resource, manifest in k8s_objects(snapshots[stack]):
        if manifest["apiVersion"].split("/")[0] in CUSTOM_GROUPS:
            continue  # tests/test_custom_resources.py
        try:
            kubernetes_validate.validate(_schema_ready(manifest), f"{version}.0", strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{resource['name']}: {error.message} at {list(error.path)}")
        checked += 1
    assert checked >= 15


def test_the_validator_rejects_a_broken_object(snapshots: dict[str, Any]) -> None:
    """Guards the test above: a misspelt field must fail validation in strict mode."""
    _, manifest = next(
        (r, m) for r, m in k8s_objects(snapshots["local"]) if m["kind"] == "StatefulSet"
    )
    broken = _schema_ready(manifest)
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33.0", strict=True)
