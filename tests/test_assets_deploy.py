"""The deploy container's logic with MLDE, the bucket and Kubernetes faked at their client
boundaries, on a real checkpoint trained for one batch in MLDE's local mode."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from pdk_assets import env
from pdk_assets.deploy import DeployTarget, run_deploy, storage_uri
from pdk_assets.kserve import DeployError, apply, inference_service, wait_ready
from pdk_assets.local import LocalMlde
from pdk_assets.manifest import EXAMPLES_DIR, load_manifest
from pdk_assets.model_info import ModelInfoError, read_model_info
from pdk_assets.serving import config_properties, load_trained_model
from pdk_assets.synthetic import write_dataset
from pdk_assets.train import MldmConnection, TrainJob, run_train

MANIFEST = load_manifest(EXAMPLES_DIR / "dog-cat")
TARGET = DeployTarget(
    bucket="pdk-models", namespace="models", wait_timeout_s=30, deployment_id="test-stack"
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(checkpoint folder, model-info.yaml) from one real local training batch."""
    root = tmp_path_factory.mktemp("trained")
    data = write_dataset(root / "data", MANIFEST.classes, per_class=2)
    mlde = LocalMlde(root / "mlde", max_batches=1)
    job = TrainJob("f" * 32, "dogs-and-cats-model", data, root / "out")
    info = run_train(
        MANIFEST, mlde, job, MldmConnection("localhost", 1), say=lambda _: None, local_dir=data
    )
    assert info is not None
    return mlde.storage / info.checkpoint, root / "out" / env.MODEL_INFO_FILE


class FakeMlde:
    def __init__(self, checkpoint: Path) -> None:
        self.checkpoint = checkpoint
        self.downloads: list[str] = []

    def download_checkpoint(self, checkpoint: str, destination: Path) -> Path:
        self.downloads.append(checkpoint)
        shutil.copytree(self.checkpoint, destination)
        return destination


class FakeStore:
    scheme = "s3"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def upload(self, source: Path, bucket: str, key: str) -> None:
        self.objects[f"{bucket}/{key}"] = source.read_bytes()


class FakeKube:
    """An API server holding InferenceServices; Ready after ``ready_after`` reads."""

    def __init__(self, existing: dict[str, Any] | None = None, ready_after: int = 1) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        if existing:
            self.objects[existing["metadata"]["name"]] = existing
        self.requests: list[tuple[str, Any]] = []
        self.ready_after = ready_after
        self.reads = 0

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.requests.append(("get", (namespace, name)))
        self.reads += 1
        found = self.objects.get(name)
        if found is None:
            return None
        ready = "True" if self.reads > self.ready_after else "False"
        status = {"url": f"http://{name}.{namespace}.example.com", "conditions": []}
        status["conditions"] = [{"type": "Ready", "status": ready, "message": "revision pending"}]
        return {**found, "status": status}

    def create(self, namespace: str, body: dict[str, Any]) -> None:
        self.requests.append(("create", body))
        self.objects[body["metadata"]["name"]] = {
            **body,
            "metadata": {**body["metadata"], "resourceVersion": "100"},
        }

    def replace(self, namespace: str, name: str, body: dict[str, Any]) -> None:
        self.requests.append(("replace", body))
        self.objects[name] = body


def test_deploy_uploads_the_model_and_creates_the_service(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    checkpoint, model_info = trained
    info = read_model_info(model_info)
    mlde, store, kube = FakeMlde(checkpoint), FakeStore(), FakeKube()
    url = run_deploy(
        MANIFEST,
        model_info,
        mlde,
        store,
        kube,
        TARGET,
        wait=True,
        workdir=tmp_path,
        say=lambda _: None,
        sleep=lambda _: None,
    )
    assert url == "http://dog-cat.models.example.com"
    assert mlde.downloads == [info.checkpoint]
    assert set(store.objects) == {
        "pdk-models/dogs-and-cats/config/config.properties",
        "pdk-models/dogs-and-cats/model-store/dogs-and-cats.mar",
    }
    archive = tmp_path / "archive.mar"
    archive.write_bytes(store.objects["pdk-models/dogs-and-cats/model-store/dogs-and-cats.mar"])
    with zipfile.ZipFile(archive) as mar:
        names = set(mar.namelist())
        manifest = json.loads(mar.read("MAR-INF/MANIFEST.json"))
    assert {
        "handler.py",
        "handler_base.py",
        "pdk-serving.json",
        "transforms.py",
        "model.pt",
    } <= names
    with zipfile.ZipFile(archive) as mar:
        settings = json.loads(mar.read("pdk-serving.json"))
    assert settings["max_request_bytes"] == MANIFEST.serving.max_request_mb * 2**20
    assert manifest["model"]["modelName"] == "dogs-and-cats"
    assert manifest["model"]["handler"] == "handler.py"

    created = [body for verb, body in kube.requests if verb == "create"]
    assert len(created) == 1
    predictor = created[0]["spec"]["predictor"]
    assert predictor["pytorch"]["storageUri"] == "s3://pdk-models/dogs-and-cats"
    assert predictor["pytorch"]["protocolVersion"] == "v1"
    assert predictor["serviceAccountName"] == "kserve-models"
    assert created[0]["metadata"]["annotations"]["pdk.hpe.com/mldm-job-id"] == info.job_id
    assert created[0]["metadata"]["labels"]["pdk-deployer/deployment-id"] == "test-stack"


def test_no_wait_returns_after_applying(trained: tuple[Path, Path], tmp_path: Path) -> None:
    checkpoint, model_info = trained
    kube = FakeKube(ready_after=10**6)
    result = run_deploy(
        MANIFEST,
        model_info,
        FakeMlde(checkpoint),
        FakeStore(),
        kube,
        TARGET,
        wait=False,
        workdir=tmp_path,
        say=lambda _: None,
    )
    assert result is None
    assert [verb for verb, _ in kube.requests] == ["get", "create"]


def test_exported_torchscript_matches_the_checkpointed_model(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    from pdk_assets.serving import export_torchscript

    model = load_trained_model(MANIFEST, trained[0])
    scripted = torch.jit.load(str(export_torchscript(model, tmp_path / "model.pt")))
    batch = torch.randn(2, 3, 224, 224)
    assert torch.allclose(scripted(batch), model(batch), atol=1e-5)
    state = torch.load(trained[0] / "state_dict.pth", map_location="cpu", weights_only=False)
    stored = state["models_state_dict"][0]["head.weight"]
    assert torch.equal(model.head.weight.detach(), stored)


def test_config_properties_leave_the_envelope_to_the_handler_and_set_the_size_limit() -> None:
    lines = config_properties(MANIFEST).splitlines()
    properties = dict(line.split("=", 1) for line in lines)
    # FIX: TorchServe's kserve envelope answered malformed bodies with 503 before any handler
    # code ran; the handler parses the KServe v1 body itself, and the runtime's
    # TS_SERVICE_ENVELOPE must be ignored (envvars off).
    assert "service_envelope" not in properties
    assert properties["enable_envvars_config"] == "false"
    # FIX: TorchServe's default (6553500 bytes) refused a 5 MB JPEG in base64 with an empty 413.
    limit = MANIFEST.serving.max_request_mb * 2**20
    assert int(properties["max_request_size"]) == 2 * limit > 6553500
    assert int(properties["max_response_size"]) == 2 * limit
    assert properties["install_py_dep_per_model"] == "true"
    assert properties["model_store"] == "/mnt/models/model-store"
    assert properties["inference_address"] == "http://0.0.0.0:8085"
    snapshot = json.loads(properties["model_snapshot"])
    version = snapshot["models"]["dogs-and-cats"]["1.0"]
    serving = MANIFEST.serving
    assert version == {
        "defaultVersion": True,
        "marName": "dogs-and-cats.mar",
        "minWorkers": serving.min_workers,
        "maxWorkers": serving.max_workers,
        "batchSize": serving.batch_size,
        "maxBatchDelay": serving.max_batch_delay_ms,
        "responseTimeout": serving.response_timeout_s,
    }


def test_existing_service_is_replaced_with_its_resource_version() -> None:
    body = inference_service(
        MANIFEST,
        namespace="models",
        storage_uri=storage_uri("gs", "bucket", "dogs-and-cats"),
        service_account="kserve-models",
        job_id="job-2",
        model_version=2,
        deployment_id="onprem",
    )
    assert body["metadata"]["labels"]["pdk-deployer/deployment-id"] == "onprem"
    existing = {**body, "metadata": {**body["metadata"], "resourceVersion": "77"}}
    kube = FakeKube(existing=existing)
    assert apply(kube, body) == "replaced"
    verb, sent = kube.requests[-1]
    assert verb == "replace"
    assert sent["metadata"]["resourceVersion"] == "77"
    assert sent["spec"]["predictor"]["pytorch"]["storageUri"] == "gs://bucket/dogs-and-cats"
    assert "tolerations" not in sent["spec"]["predictor"]


def test_gpu_toleration_comes_from_the_stack_and_resources_from_the_manifest() -> None:
    serving = MANIFEST.serving.model_copy(update={"gpu_toleration": True})
    manifest = MANIFEST.model_copy(update={"serving": serving})
    # FIX: the toleration was hard-coded (nvidia.com/gpu=present); a stack with another
    # gpuTaint must get its own.
    taint = {"key": "gpu", "operator": "Equal", "value": "a100", "effect": "NoExecute"}
    body = inference_service(
        manifest,
        namespace="models",
        storage_uri="s3://b/m",
        service_account="sa",
        job_id="j",
        model_version=1,
        deployment_id="d",
        gpu_toleration=taint,
    )
    predictor = body["spec"]["predictor"]
    assert predictor["tolerations"] == [taint]
    assert predictor["pytorch"]["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    with pytest.raises(DeployError, match="PDK_GPU_TOLERATION"):
        inference_service(
            manifest,
            namespace="models",
            storage_uri="s3://b/m",
            service_account="sa",
            job_id="j",
            model_version=1,
            deployment_id="d",
        )


def test_deploy_main_reads_the_stacks_toleration_and_deployment_id() -> None:
    from pdk_assets.deploy import gpu_toleration_from

    taint = {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}
    assert gpu_toleration_from(json.dumps(taint)) == taint
    assert gpu_toleration_from("") is None
    with pytest.raises(env.MissingEnvironment, match="not a JSON toleration"):
        gpu_toleration_from("nvidia.com/gpu=present:NoSchedule")


def test_wait_gives_up_with_the_services_conditions() -> None:
    kube = FakeKube(ready_after=10**6)
    kube.objects["dog-cat"] = {"metadata": {"name": "dog-cat"}}
    with pytest.raises(DeployError, match=r"not Ready after 10s \(Ready: revision pending\)"):
        wait_ready(kube, "models", "dog-cat", timeout_s=10, interval_s=5, sleep=lambda _: None)


def test_missing_model_info_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelInfoError, match=rf"{tmp_path}/model-info\.yaml: no model-info"):
        read_model_info(tmp_path / "model-info.yaml")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: [unclosed", "not valid YAML"),
        ("- a list", "expected a mapping"),
        ("name: dogs-and-cats\nversion: zero\n", r"malformed model-info\.yaml: version"),
    ],
)
def test_malformed_model_info_names_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "model-info.yaml"
    path.write_text(content)
    with pytest.raises(ModelInfoError, match=rf"{path}: {message}"):
        read_model_info(path)


def test_model_info_of_another_example_is_refused(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    info = yaml.safe_load(trained[1].read_text())
    other = tmp_path / "model-info.yaml"
    other.write_text(yaml.safe_dump({**info, "example": "brain-mri"}))
    with pytest.raises(ModelInfoError, match="model of example 'brain-mri'"):
        run_deploy(
            MANIFEST,
            other,
            FakeMlde(trained[0]),
            FakeStore(),
            FakeKube(),
            TARGET,
            wait=False,
            workdir=tmp_path,
        )


def test_archives_are_staged_privately(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """torch-model-archiver stages in <tmp>/<model name>, which every build on the machine
    shares; two builds at once deleted each other's files. The build now stages privately."""
    import tempfile

    from pdk_assets.serving import build_archive

    shared = tmp_path / "system-tmp"
    (shared / MANIFEST.serving.model_name).mkdir(parents=True)
    sentinel = shared / MANIFEST.serving.model_name / "another-build.txt"
    sentinel.write_text("in use")
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    serialized = tmp_path / "model.pt"
    serialized.write_bytes(b"not used by the archiver")
    archive = build_archive(MANIFEST, serialized, tmp_path / "store")
    assert archive.is_file()
    assert sentinel.read_text() == "in use"
    assert tempfile.tempdir == str(shared)
