"""Leak detection needs the deployment id on what we create and on what controllers create for
us (disks from claims, load balancers from Services, node instances): the settings that make
them carry it, checked on every stack's offline plan."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from infra.naming import DEPLOYMENT_LABEL
from infra.targets.aws.target import LB_TAGS_ANNOTATION
from infra.targets.gcp.project import gcp_labels
from infra.targets.gcp.volumes import PD_CSI_DRIVER
from tests.conftest import k8s_objects, releases


def _load_balancer_services(values: Any) -> Iterator[dict[str, Any]]:
    """Every service spec of type LoadBalancer nested anywhere in chart values or a custom
    resource (a chart's ``service:``, Envoy Gateway's ``envoyService``)."""
    if isinstance(values, dict):
        for key in ("service", "envoyService"):
            service = values.get(key)
            if isinstance(service, dict) and service.get("type") == "LoadBalancer":
                yield service
        for value in values.values():
            yield from _load_balancer_services(value)
    elif isinstance(values, list):
        for value in values:
            yield from _load_balancer_services(value)


def test_aws_volumes_from_claims_carry_the_deployment_id(snapshots: dict[str, Any]) -> None:
    (gp3,) = [
        r
        for r in snapshots["aws"]["resources"]
        if r["type"] == "kubernetes:storage.k8s.io/v1:StorageClass"
        and r["inputs"]["metadata"]["name"] == "gp3"
    ]
    parameters = gp3["inputs"]["parameters"]
    tags = {v for k, v in parameters.items() if k.startswith("tagSpecification_")}
    assert f"{DEPLOYMENT_LABEL}=aws" in tags
    assert parameters["type"] == "gp3"


def test_aws_volumes_of_any_class_carry_the_deployment_id(snapshots: dict[str, Any]) -> None:
    (addon,) = [
        r
        for r in snapshots["aws"]["resources"]
        if r["type"] == "aws:eks/addon:Addon" and r["inputs"]["addonName"] == "aws-ebs-csi-driver"
    ]
    tags = json.loads(addon["inputs"]["configurationValues"])["controller"]["extraVolumeTags"]
    assert tags[DEPLOYMENT_LABEL] == "aws"
    others = [
        r["inputs"]
        for r in snapshots["aws"]["resources"]
        if r["type"] == "aws:eks/addon:Addon" and r["inputs"]["addonName"] != "aws-ebs-csi-driver"
    ]
    assert others and not any("configurationValues" in inputs for inputs in others)


# The PD CSI driver's rules for its ``labels`` parameter (ConvertLabelsStringToMap): a bad
# label fails every claim of the class, so the plan's labels must pass them.
GCP_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
GCP_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


def test_gcp_disks_from_claims_carry_the_deployment_id(snapshots: dict[str, Any]) -> None:
    (pd,) = [
        r["inputs"]
        for r in snapshots["gcp"]["resources"]
        if r["type"] == "kubernetes:storage.k8s.io/v1:StorageClass"
        and r["inputs"]["provisioner"] == PD_CSI_DRIVER
    ]
    assert pd["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    pairs = [pair.split("=") for pair in pd["parameters"]["labels"].split(",")]
    labels = dict((key, value) for key, value in pairs)
    assert len(labels) == len(pairs) >= 4
    for key, value in labels.items():
        assert GCP_LABEL_KEY.match(key) and GCP_LABEL_VALUE.match(value), (key, value)
    (deployment_key,) = gcp_labels({DEPLOYMENT_LABEL: "x"})
    assert labels[deployment_key] == "gcp"


def test_aws_load_balancers_carry_the_deployment_id(snapshots: dict[str, Any]) -> None:
    snapshot = snapshots["aws"]
    found = 0
    for _, manifest in k8s_objects(snapshot):
        if manifest["kind"] == "Service" and manifest["spec"].get("type") == "LoadBalancer":
            found += 1
            tags = manifest["metadata"]["annotations"][LB_TAGS_ANNOTATION].split(",")
            assert f"{DEPLOYMENT_LABEL}=aws" in tags, manifest["metadata"]["name"]
        for service in _load_balancer_services(manifest.get("spec", {})):
            found += 1
            tags = service["annotations"][LB_TAGS_ANNOTATION].split(",")
            assert f"{DEPLOYMENT_LABEL}=aws" in tags, manifest["metadata"]["name"]
    for name, inputs in releases(snapshot).items():
        for service in _load_balancer_services(inputs.get("values", {})):
            found += 1
            assert f"{DEPLOYMENT_LABEL}=aws" in service["annotations"][LB_TAGS_ANNOTATION], name
    assert found >= 1  # the gateway, which everything user-facing goes through


def test_aws_node_instances_and_their_disks_carry_the_deployment_id(
    snapshots: dict[str, Any],
) -> None:
    templates = [
        r
        for r in snapshots["aws"]["resources"]
        if r["type"] == "aws:ec2/launchTemplate:LaunchTemplate"
    ]
    assert templates
    for template in templates:
        specs = {s["resourceType"]: s["tags"] for s in template["inputs"]["tagSpecifications"]}
        assert set(specs) >= {"instance", "volume"}
        assert all(tags[DEPLOYMENT_LABEL] == "aws" for tags in specs.values())


def test_the_aws_annotation_stays_off_other_targets(snapshots: dict[str, Any]) -> None:
    for stack in ("onprem", "local"):
        for _, manifest in k8s_objects(snapshots[stack]):
            annotations = manifest.get("metadata", {}).get("annotations") or {}
            assert LB_TAGS_ANNOTATION not in annotations
        for inputs in releases(snapshots[stack]).values():
            assert LB_TAGS_ANNOTATION not in str(inputs.get("values", {}))
