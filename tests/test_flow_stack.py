"""The flow as the stacks declare it, under Pulumi's mocks: images built from this checkout,
pipelines that run exactly those images, and the MLDM/MLDE objects, on every target that
enables it. Nothing is built and no MLDM or MLDE is contacted here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config.load import load_config
from infra.flow.images import build_inputs, content_tag
from infra.plan.engine import run_program
from infra.plan.stackfiles import REPO_ROOT, read_stack
from pdk_assets import env as container_env
from pdk_assets.manifest import load_examples, load_manifest
from tests.conftest import STACKS, TARGET_OF, depends_on, only_problem, resource

FLOW_STACKS = [s for s in STACKS if load_config(s, *read_stack(s)).flow.enabled]
MANIFEST = load_manifest(REPO_ROOT / "examples" / "dog-cat" / "example.yaml")


def dynamic(snapshot: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in snapshot["resources"] if r["type"] == f"pulumi-python:dynamic/pdk:{kind}"]


def test_the_cloud_and_on_prem_stacks_declare_the_flow() -> None:
    assert {"onprem", "aws"} <= set(FLOW_STACKS)
    assert "local" not in FLOW_STACKS


@pytest.mark.parametrize("stack", FLOW_STACKS)
def test_images_are_tagged_by_the_content_of_this_checkout(
    snapshots: dict[str, Any], stack: str
) -> None:
    snapshot = snapshots[stack]
    registry = snapshot["outputs"]["registry"]
    for kind in ("train", "deploy"):
        image = resource(snapshot, f"flow-images-{kind}")["inputs"]
        expected_tag = "dog-cat-" + content_tag(
            REPO_ROOT,
            build_inputs(kind, "dog-cat"),
            salt={"EXAMPLE": "dog-cat", "platforms": "linux/amd64"},
        )
        assert image["tags"] == [f"{registry}/{kind}:{expected_tag}"]
        assert image["push"] is True
        assert image["buildOnPreview"] is False
        assert image["dockerfile"]["location"].endswith(f"images/{kind}/Dockerfile")


@pytest.mark.parametrize("stack", FLOW_STACKS)
def test_pipelines_run_the_images_built_here(snapshots: dict[str, Any], stack: str) -> None:
    snapshot = snapshots[stack]
    images = {
        kind: resource(snapshot, f"flow-images-{kind}")["inputs"]["tags"][0]
        for kind in ("train", "deploy")
    }
    pipelines = {r["name"]: r["inputs"] for r in dynamic(snapshot, "MldmPipeline")}
    assert set(pipelines) == {"flow-train-pipeline", "flow-deploy-pipeline"}
    train = pipelines["flow-train-pipeline"]["spec"]
    deploy = pipelines["flow-deploy-pipeline"]["spec"]
    assert train["transform"]["image"] == images["train"]
    assert deploy["transform"]["image"] == images["deploy"]
    assert train["transform"]["cmd"] == container_env.train_command(MANIFEST)
    assert deploy["transform"]["cmd"] == container_env.deploy_command(MANIFEST, wait=True)
    assert train["input"]["pfs"]["repo"] == MANIFEST.mldm.repo
    assert deploy["input"]["pfs"]["repo"] == MANIFEST.mldm.train_pipeline
    for spec in (train, deploy):
        assert spec["pipeline"]["project"]["name"] == MANIFEST.mldm.project
        mapped = {
            s["key"]: s["env_var"]
            for s in spec["transform"]["secrets"]
            if s["name"] == "pipeline-secret"
        }
        assert mapped == dict(container_env.SECRET_ENV)
        assert mapped["pac_token"] == "PACH_TOKEN"  # the guides' PAC_TOKEN/PACH_TOKEN mismatch
        env = spec["transform"]["env"]
        assert env[container_env.MODEL_BUCKET] == snapshot["outputs"]["buckets"]["models"]
        assert env[container_env.STORAGE_KIND] == snapshot["outputs"]["objectStore"]["kind"]


def test_on_prem_uploads_with_a_models_bucket_writer_and_aws_with_its_role(
    snapshots: dict[str, Any],
) -> None:
    """FIX: on MinIO the deploy step uploaded with MLDM's keys, which reach all three buckets;
    it now uses the target's models-bucket writer, whose MinIO policy names that bucket only."""

    def upload_secrets(stack: str) -> list[dict[str, str]]:
        (deploy,) = [
            r
            for r in dynamic(snapshots[stack], "MldmPipeline")
            if r["name"] == "flow-deploy-pipeline"
        ]
        return [
            s
            for s in deploy["inputs"]["spec"]["transform"]["secrets"]
            if s["name"] != "pipeline-secret"
        ]

    onprem = {s["env_var"]: s for s in upload_secrets("onprem")}
    assert set(onprem) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert {s["name"] for s in onprem.values()} == {"flow-object-store"}
    assert upload_secrets("aws") == []

    snapshot = snapshots["onprem"]
    (setup,) = [
        r
        for r in snapshot["resources"]
        if r["type"] == "kubernetes:batch/v1:Job" and r["name"].endswith("minio-setup")
    ]
    container = setup["inputs"]["spec"]["template"]["spec"]["containers"][0]
    policy = json.loads(next(e["value"] for e in container["env"] if e["name"] == "POLICY_FLOW"))
    models = snapshot["outputs"]["buckets"]["models"]
    resources = {r for statement in policy["Statement"] for r in statement["Resource"]}
    assert resources == {f"arn:aws:s3:::{models}", f"arn:aws:s3:::{models}/*"}
    assert "s3:PutObject" in policy["Statement"][1]["Action"]
    keys = [
        r
        for r in snapshot["resources"]
        if r["type"] == "kubernetes:core/v1:Secret"
        and r["inputs"]["metadata"]["name"] == "flow-object-store"
    ]
    assert [k["inputs"]["metadata"]["namespace"] for k in keys] == ["default"]


@pytest.mark.parametrize("stack", FLOW_STACKS)
def test_cluster_parameters_reach_the_containers(snapshots: dict[str, Any], stack: str) -> None:
    """FIX: the predictor's GPU toleration was hard-coded and InferenceServices carried no
    deployment id; both now come from the stack, through the pipelines' environment."""
    snapshot = snapshots[stack]
    raw, secret = read_stack(stack)
    config = load_config(stack, raw, secret)
    key, _, rest = config.gpu.taint.partition("=")
    value, _, effect = rest.partition(":")
    for pipeline in dynamic(snapshot, "MldmPipeline"):
        env = pipeline["inputs"]["spec"]["transform"]["env"]
        assert json.loads(env[container_env.GPU_TOLERATION]) == {
            "key": key,
            "operator": "Equal",
            "value": value,
            "effect": effect,
        }
        assert env[container_env.DEPLOYMENT_ID] == snapshot["outputs"]["deploymentId"]
    assert "inferenceservices" in snapshot["outputs"]["findResourcesCommand"]


@pytest.mark.parametrize("stack", FLOW_STACKS)
def test_train_input_has_empty_files_and_workers_autoscale(
    snapshots: dict[str, Any], stack: str
) -> None:
    """FIX: the train step downloaded the whole commit although it reads names only, and
    idle workers never scaled down."""
    pipelines = {r["name"]: r["inputs"]["spec"] for r in dynamic(snapshots[stack], "MldmPipeline")}
    assert pipelines["flow-train-pipeline"]["input"]["pfs"]["empty_files"] is True
    assert "empty_files" not in pipelines["flow-deploy-pipeline"]["input"]["pfs"]
    assert all(spec["autoscaling"] is True for spec in pipelines.values())


def test_autoscaling_can_be_turned_off() -> None:
    raw, secret = read_stack("onprem")
    config = load_config("onprem", {**raw, "flowAutoscaling": "false"}, secret)
    snapshot = run_program("onprem", config).to_dict()
    specs = [r["inputs"]["spec"] for r in dynamic(snapshot, "MldmPipeline")]
    assert len(specs) == 2 and all("autoscaling" not in spec for spec in specs)


@pytest.mark.parametrize("stack", FLOW_STACKS)
def test_mldm_and_mlde_objects_are_declared_in_order(snapshots: dict[str, Any], stack: str) -> None:
    snapshot = snapshots[stack]
    (project,) = dynamic(snapshot, "MldmProject")
    (repo,) = dynamic(snapshot, "MldmRepo")
    (workspace,) = dynamic(snapshot, "MldeWorkspace")
    (mlde_project,) = dynamic(snapshot, "MldeProject")
    assert project["inputs"]["project"] == MANIFEST.mldm.project
    assert repo["inputs"]["repo"] == MANIFEST.mldm.repo
    assert repo["protect"] is True  # holds the data
    assert workspace["inputs"]["workspace"] == MANIFEST.mlde.workspace
    assert mlde_project["inputs"]["project"] == MANIFEST.mlde.project
    assert "flow-mldm-project" in depends_on(snapshot, "flow-mldm-repo")
    assert {"flow-mldm-repo", "flow-mlde-project"} <= depends_on(snapshot, "flow-train-pipeline")
    assert "flow-train-pipeline" in depends_on(snapshot, "flow-deploy-pipeline")
    # Created only once the platform answers.
    assert {"gateway-gateway", "route-mldm", "route-mlde", "mldm-proxy"} <= depends_on(
        snapshot, "flow-mldm-project"
    )


@pytest.mark.parametrize("stack", FLOW_STACKS)
def test_connection_secrets_stay_secret(snapshots: dict[str, Any], stack: str) -> None:
    for kind in ("MldeWorkspace", "MldeProject"):
        for r in dynamic(snapshots[stack], kind):
            assert r["inputs"]["password"] == "[secret]"
    text = json.dumps(snapshots[stack])
    assert "mock-generated-secret" not in text
    assert "mock-registry-token" not in text


def test_the_providers_reach_the_gateway_by_name_over_tls(snapshots: dict[str, Any]) -> None:
    """By default Pulumi reaches MLDM and MLDE at their gateway host names, over TLS, trusting
    the stack's CA (the same PEM as the caCertificate output)."""
    snapshot = snapshots["onprem"]
    ca = snapshot["outputs"]["caCertificate"]
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    (project,) = dynamic(snapshot, "MldmProject")
    inputs = project["inputs"]
    assert (inputs["host"], inputs["port"], inputs["tls"]) == ("mldm.pdk.internal", 443, True)
    assert inputs["ca"] == ca
    (workspace,) = dynamic(snapshot, "MldeWorkspace")
    assert workspace["inputs"]["master"] == "https://mlde.pdk.internal"
    assert workspace["inputs"]["ca"] == ca


def test_configured_addresses_win() -> None:
    raw, secret = read_stack("local")
    config = load_config(
        "local",
        {
            **raw,
            "flowEnabled": "true",
            "flowMldmAddress": "localhost:30080",
            "flowMldeUrl": "http://localhost:30081/",
        },
        secret,
    )
    snapshot = run_program("local", config).to_dict()
    (project,) = dynamic(snapshot, "MldmProject")
    assert (project["inputs"]["host"], project["inputs"]["port"]) == ("localhost", 30080)
    (workspace,) = dynamic(snapshot, "MldeWorkspace")
    assert workspace["inputs"]["master"] == "http://localhost:30081"


def test_changing_training_code_changes_the_train_image_tag(tmp_path: Any) -> None:
    import shutil

    for folder in ("images", "pdk_assets", "examples/dog-cat"):
        shutil.copytree(
            REPO_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    inputs = build_inputs("train", "dog-cat")
    before = content_tag(tmp_path, inputs)
    model = tmp_path / "examples" / "dog-cat" / "experiment" / "model_def.py"
    model.write_text(model.read_text() + "\n# a change\n")
    assert content_tag(tmp_path, inputs) != before


# --- config ----------------------------------------------------------------------------------


def test_flow_needs_a_registry_on_an_existing_cluster() -> None:
    message = only_problem({"target": "existing", "flowEnabled": "true"})
    assert "pdk-deployer:registry = (not set): is required while flowEnabled is true" in message


def test_flow_on_node_ports_needs_addresses() -> None:
    from tests.conftest import problems

    found = problems(
        {
            "target": "existing",
            "flowEnabled": "true",
            "registry": "localhost:5001/pdk",
            "exposeServiceType": "NodePort",
        }
    )
    assert len(found) == 2
    assert any(
        "flowMldmAddress = (not set): is required with exposeServiceType NodePort" in p
        for p in found
    )
    assert any("flowMldeUrl = (not set)" in p for p in found)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("flowExample", "cats-only", "is not an example of this repository"),
        ("flowMldmAddress", "http://localhost:30080", "is not HOST:PORT"),
        ("flowMldeUrl", "localhost:30081", "is not an http(s) URL"),
    ],
)
def test_flow_values(key: str, value: str, reason: str) -> None:
    raw = {"target": "existing", "flowEnabled": "true", "registry": "localhost:5001/pdk"}
    message = only_problem({**raw, key: value})
    assert f"pdk-deployer:{key} = {value!r}: {reason}" in message


@pytest.mark.parametrize("stack", FLOW_STACKS)
def test_the_stacks_pipeline_specs_round_trip_through_the_protobuf(
    snapshots: dict[str, Any], stack: str
) -> None:
    """What the stack would send to pachd, not only what the builder makes in isolation."""
    from tests.conftest import pipeline_round_trip

    for pipeline in dynamic(snapshots[stack], "MldmPipeline"):
        spec = pipeline["inputs"]["spec"]
        assert pipeline_round_trip(spec) == spec, pipeline["name"]


# --- every example on every target -----------------------------------------------------------

EXAMPLES = [manifest.name for manifest in load_examples()]


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_plans_every_example(stack: str, example: str) -> None:
    """``flowExample`` selects the example; its images, project, repo and pipelines follow
    from its manifest alone, on every target (a NodePort stack gets the addresses it needs)."""
    raw, secret = read_stack(stack)
    overrides = {
        "flowEnabled": "true",
        "flowExample": example,
        "flowMldmAddress": "localhost:30080",
        "flowMldeUrl": "http://localhost:30081",
    }
    if TARGET_OF[stack] == "existing" and not raw.get("registry"):
        overrides["registry"] = "localhost:5001/pdk"
    config = load_config(stack, {**raw, **overrides}, secret)
    snapshot = run_program(stack, config).to_dict()
    manifest = load_manifest(REPO_ROOT / "examples" / example)
    pipelines = {r["name"]: r["inputs"] for r in dynamic(snapshot, "MldmPipeline")}
    train = pipelines["flow-train-pipeline"]["spec"]
    deploy = pipelines["flow-deploy-pipeline"]["spec"]
    assert train["pipeline"]["name"] == manifest.mldm.train_pipeline
    assert deploy["pipeline"]["name"] == manifest.mldm.deploy_pipeline
    assert train["input"]["pfs"]["repo"] == manifest.mldm.repo
    assert train["transform"]["cmd"] == container_env.train_command(manifest)
    assert deploy["transform"]["cmd"] == container_env.deploy_command(manifest, wait=True)
    for kind, spec in (("train", train), ("deploy", deploy)):
        tag = resource(snapshot, f"flow-images-{kind}")["inputs"]["tags"][0]
        assert spec["transform"]["image"] == tag
        assert tag.rsplit(":", 1)[1].startswith(f"{example}-")
        assert resource(snapshot, f"flow-images-{kind}")["inputs"]["buildArgs"] == {
            "EXAMPLE": example
        }
    (repo,) = dynamic(snapshot, "MldmRepo")
    assert repo["inputs"]["repo"] == manifest.mldm.repo
    (project,) = dynamic(snapshot, "MldeProject")
    assert project["inputs"]["project"] == manifest.mlde.project
    from tests.conftest import pipeline_round_trip

    for spec in (train, deploy):
        assert pipeline_round_trip(spec) == spec
