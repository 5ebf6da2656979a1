"""The MLDM pipeline-spec builder: every variant survives pachyderm-sdk's own request type."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.contract import SHARED_CLAIM, SHARED_MOUNT_PATH
from infra.flow.pipelines import (
    SHARED_VOLUME_NAME,
    PfsInput,
    PipelineSpecArgs,
    SharedVolume,
    Toleration,
    pipeline_spec,
)
from infra.platform.wiring import PIPELINE_SECRET, PIPELINE_SECRET_KEYS
from tests.conftest import pipeline_round_trip

IMAGE = "registry.example.com/pdk/pdk-train:dog-cat-0123456789abcdef"
GPU_TOLERATION = {
    "key": "nvidia.com/gpu",
    "operator": "Equal",
    "value": "present",
    "effect": "NoSchedule",
}


def _train(**overrides: Any) -> PipelineSpecArgs:
    base: dict[str, Any] = {
        "name": "dogs-and-cats-model",
        "project": "pdk-dogs-and-cats",
        "cmd": ["python", "-m", "pdk_assets.train"],
        "input": PfsInput(repo="dogs-and-cats-data", project="pdk-dogs-and-cats"),
        "description": "Trains the dog-cat model in MLDE on each data commit.",
        "env": {"PDK_EXAMPLE": "dog-cat"},
        "secret_env": {key: key.upper() for key in PIPELINE_SECRET_KEYS},
        "datum_tries": 1,
    }
    return PipelineSpecArgs(**{**base, **overrides})


VARIANTS = {
    "minimal": PipelineSpecArgs(
        name="p",
        project="default",
        cmd=["true"],
        input=PfsInput(repo="r", project="default"),
    ),
    "cloud-train": _train(cpu=0.5, memory="1Gi", autoscaling=True),
    "onprem-train": _train(
        shared_volume=SharedVolume(),
        service_account="pachyderm-worker",
        cpu=1,
        memory="2Gi",
        disk="10Gi",
        parallelism=1,
        node_selector={"nodegroup-role": "cpu-worker"},
    ),
    "gpu-deploy": _train(
        name="dogs-and-cats-deploy",
        input=PfsInput(repo="dogs-and-cats-model", project="pdk-dogs-and-cats", glob="/*"),
        gpus=1,
        tolerations=[
            Toleration.from_kubernetes(GPU_TOLERATION),
            Toleration(key="spot", operator="Exists", effect="PreferNoSchedule"),
        ],
        image_pull_secrets=["regcred"],
        extra_pod_patch=[{"op": "add", "path": "/priorityClassName", "value": "high"}],
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_spec_round_trips_through_create_pipeline_request(variant: str) -> None:
    spec = pipeline_spec(VARIANTS[variant], IMAGE)
    assert pipeline_round_trip(spec) == spec


@pytest.mark.parametrize(
    "bad",
    [
        {"service_account": "pachyderm-worker"},  # not a pps field: from_dict drops it
        {"podPatch": "[]"},  # camelCase comes back snake_case
        {"datum_tries": 3},  # proto3 JSON writes int64 as a string
        {"autoscaling": False},  # a default value is not written back
    ],
)
def test_round_trip_catches_what_the_protobuf_does_not_keep(bad: dict[str, Any]) -> None:
    spec = {**pipeline_spec(VARIANTS["minimal"], IMAGE), **bad}
    assert pipeline_round_trip(spec) != spec


def test_spec_is_json_that_pachctl_reads() -> None:
    spec = pipeline_spec(VARIANTS["onprem-train"], IMAGE)
    assert json.loads(json.dumps(spec)) == spec
    assert spec["pipeline"] == {
        "name": "dogs-and-cats-model",
        "project": {"name": "pdk-dogs-and-cats"},
    }
    assert spec["transform"]["image"] == IMAGE
    assert spec["input"] == {
        "pfs": {
            "project": "pdk-dogs-and-cats",
            "repo": "dogs-and-cats-data",
            "glob": "/",
            "branch": "master",
        }
    }


def test_secrets_map_pipeline_secret_keys_to_variables() -> None:
    spec = pipeline_spec(
        _train(secret_env={"pac_token": "PACH_TOKEN", "det_master": "DET_MASTER"}), IMAGE
    )
    assert spec["transform"]["secrets"] == [
        {"name": PIPELINE_SECRET, "key": "det_master", "env_var": "DET_MASTER"},
        {"name": PIPELINE_SECRET, "key": "pac_token", "env_var": "PACH_TOKEN"},
    ]
    assert spec["transform"]["env"] == {"PDK_EXAMPLE": "dog-cat"}


def test_cloud_and_onprem_variants_differ_only_where_their_args_do() -> None:
    cloud = pipeline_spec(_train(), IMAGE)
    onprem = pipeline_spec(_train(shared_volume=SharedVolume(), service_account="sa"), IMAGE)
    assert "pod_patch" not in cloud
    assert {key: value for key, value in onprem.items() if key != "pod_patch"} == cloud
    assert json.loads(onprem["pod_patch"]) == [
        {
            "op": "add",
            "path": "/volumes/-",
            "value": {
                "name": SHARED_VOLUME_NAME,
                "persistentVolumeClaim": {"claimName": SHARED_CLAIM},
            },
        },
        {
            "op": "add",
            "path": "/containers/0/volumeMounts/-",
            "value": {"name": SHARED_VOLUME_NAME, "mountPath": SHARED_MOUNT_PATH},
        },
        {"op": "add", "path": "/serviceAccountName", "value": "sa"},
    ]


def test_scheduling_and_resources_use_pachyderm_fields() -> None:
    spec = pipeline_spec(VARIANTS["gpu-deploy"], IMAGE)
    assert spec["resource_limits"] == {"gpu": {"type": "nvidia.com/gpu", "number": "1"}}
    assert spec["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "EQUAL", "value": "present", "effect": "NO_SCHEDULE"},
        {"key": "spot", "operator": "EXISTS", "effect": "PREFER_NO_SCHEDULE"},
    ]
    onprem = pipeline_spec(VARIANTS["onprem-train"], IMAGE)
    assert onprem["scheduling_spec"] == {"node_selector": {"nodegroup-role": "cpu-worker"}}
    assert onprem["resource_requests"] == {"cpu": 1, "memory": "2Gi", "disk": "10Gi"}
    assert onprem["parallelism_spec"] == {"constant": "1"}


def test_empty_image_is_refused() -> None:
    with pytest.raises(ValueError, match="empty image"):
        pipeline_spec(VARIANTS["minimal"], "")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "bad name"}, "name: 'bad name' is not an MLDM name"),
        ({"project": ""}, "project: '' is not an MLDM name"),
        ({"input": PfsInput(repo="a/b", project="p")}, "input.repo: 'a/b'"),
        ({"cmd": []}, "cmd: empty"),
        ({"env": {"1X": "v"}}, "'1X' is not an environment variable name"),
        ({"env": {"PACH_TOKEN": "x"}, "secret_env": {"pac_token": "PACH_TOKEN"}}, "both as plain"),
        ({"secret_env": {"a": "X", "b": "X"}}, "maps two keys to one variable"),
        ({"cpu": 0}, "cpu: 0 must be positive"),
        ({"memory": "lots"}, "memory: 'lots' is not a Kubernetes quantity"),
        ({"datum_tries": 0}, "datum_tries: 0 must be at least 1"),
        ({"parallelism": 0}, "parallelism: 0 must be at least 1"),
        ({"gpus": -1}, "gpus: -1 must not be negative"),
        (
            {"tolerations": [Toleration(key="k", value="v", operator="Exists")]},
            "with operator Exists",
        ),
        (
            {"tolerations": [Toleration.from_kubernetes({"key": "k", "effect": "Never"})]},
            "effect 'Never'",
        ),
        ({"shared_volume": SharedVolume(mount_path="data")}, "must be absolute"),
    ],
)
def test_bad_args_are_refused_with_the_field_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="invalid spec arguments") as raised:
        _train(**overrides)
    assert message in str(raised.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValueError) as raised:
        _train(name="bad name", cmd=[], cpu=-1)
    text = str(raised.value)
    assert "name:" in text and "cmd:" in text and "cpu:" in text
