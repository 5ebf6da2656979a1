"""The serving runtime the platform declares, against what the flow creates: every
InferenceService any example can create must select a runtime of every stack (model format
and protocol, by KServe's selection rules), and the torch that exports the model must be the
torch that serves it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infra import versions
from pdk_assets.kserve import inference_service
from pdk_assets.manifest import EXAMPLES_DIR, MANIFEST_FILE, load_manifest
from tests.conftest import STACKS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(path.parent.name for path in EXAMPLES_DIR.glob(f"*/{MANIFEST_FILE}"))
PREDICTOR_FORMATS = {"pytorch", "sklearn", "xgboost", "tensorflow", "onnx", "triton", "lightgbm"}
"""Predictor keys that name a model format (KServe v1beta1 PredictorSpec)."""


def runtimes(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r["inputs"]
        for r in snapshot["resources"]
        if r["type"] == "kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime"
    ]


def requested(isvc: dict[str, Any]) -> tuple[str, str, str | None]:
    """``(model format, protocol, runtime name or None)`` of an InferenceService's predictor,
    as KServe reads them: a framework key or ``model.modelFormat.name``; protocol v1 unless
    set."""
    predictor = isvc["spec"]["predictor"]
    if "model" in predictor:
        model = predictor["model"]
        return (
            model["modelFormat"]["name"],
            model.get("protocolVersion", "v1"),
            model.get("runtime"),
        )
    (framework,) = PREDICTOR_FORMATS & set(predictor)
    spec = predictor[framework]
    return framework, spec.get("protocolVersion", "v1"), spec.get("runtime")


def selects(runtime: dict[str, Any], model_format: str, protocol: str, name: str | None) -> bool:
    """KServe's runtime selection: an explicit runtime by name, else an auto-selectable format
    match; either way the runtime must speak the protocol and not be disabled."""
    spec = runtime["spec"]
    if spec.get("disabled") or protocol not in spec.get("protocolVersions", ["v1"]):
        return False
    formats = spec["supportedModelFormats"]
    if name is not None:
        return runtime["metadata"]["name"] == name and any(
            f["name"] == model_format for f in formats
        )
    return any(f["name"] == model_format and f.get("autoSelect") for f in formats)


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("stack", STACKS)
def test_every_example_service_finds_a_runtime(
    snapshots: dict[str, Any], stack: str, example: str
) -> None:
    manifest = load_manifest(EXAMPLES_DIR / example)
    isvc = inference_service(
        manifest,
        namespace="models",
        storage_uri="s3://models/x",
        service_account="kserve-models",
        job_id="1",
        model_version=1,
        deployment_id="pdk",
        gpu_toleration={"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
    )
    model_format, protocol, name = requested(isvc)
    declared = runtimes(snapshots[stack])
    assert declared, f"{stack} declares no serving runtime"
    matching = [r["metadata"]["name"] for r in declared if selects(r, model_format, protocol, name)]
    assert matching == ["pdk-torchserve"], (example, model_format, protocol, matching)


def test_the_selection_rule_rejects_what_kserve_would() -> None:
    """Guards the test above with the runtime's own manifest."""
    from infra.platform.kserve import serving_runtime

    runtime = serving_runtime("img:1")
    assert selects(runtime, "pytorch", "v1", None)
    assert not selects(runtime, "pytorch", "v2", None)
    assert not selects(runtime, "sklearn", "v1", None)
    assert not selects(runtime, "pytorch", "v1", "kserve-torchserve")


@pytest.mark.parametrize("stack", STACKS)
def test_runtime_image_is_the_matrix_pin(snapshots: dict[str, Any], stack: str) -> None:
    (runtime,) = runtimes(snapshots[stack])
    (container,) = runtime["spec"]["containers"]
    assert container["image"] == versions.TORCHSERVE_RUNTIME.version
    assert container["securityContext"]["runAsNonRoot"] is True


def test_export_torch_is_the_serving_torch() -> None:
    """TorchScript is loaded by the torch that wrote it: the deploy image's torch equals the
    runtime image's, and TorchServe equals the one the local dry run serves with."""
    assert versions.EXPORT_TORCH.version == versions.TORCHSERVE_RUNTIME.extra["torch"]
    dockerfile = (ROOT / "images" / "deploy" / "Dockerfile").read_text()
    assert re.findall(r"torch==([0-9.]+)", dockerfile) == [versions.EXPORT_TORCH.version]
    tag = versions.TORCHSERVE_RUNTIME.version.rsplit(":", 1)[1]
    assert tag == versions.TORCHSERVE_RUNTIME.extra["torchserve"] == versions.TORCHSERVE.version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    flow = project["optional-dependencies"]["flow"]
    assert f"torchserve=={versions.TORCHSERVE.version}" in flow  # the dry run's TorchServe
