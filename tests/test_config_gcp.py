"""The GCP target's config checks: one test per message, each raised before anything is
registered (``load_config`` runs before the program builds a resource)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.config.load import load_config
from infra.plan.stackfiles import REPO_ROOT
from infra.targets.gcp.config import FILESTORE_MIN_GIB, GPU_MACHINES, GcpConfig
from tests.conftest import only_problem, problems

GCP = {"target": "gcp", "gcpProject": "pdk-test-project", "gcpApiAccessCidrs": "203.0.113.7/32"}


def test_a_minimal_gcp_stack_is_valid() -> None:
    config = load_config("test", GCP)
    gcp = config.section(GcpConfig)
    assert (gcp.project, gcp.region, gcp.zone, gcp.location) == (
        "pdk-test-project",
        "us-central1",
        "us-central1-c",
        "us-central1-c",
    )
    assert gcp.gpu.min_size == 0 and gcp.gpu.accelerator_type == "nvidia-tesla-t4"


def test_project_must_be_named() -> None:
    message = only_problem({"target": "gcp", "gcpApiAccessCidrs": "203.0.113.7/32"})
    assert "pdk-deployer:gcpProject = (not set): is required on gcp" in message
    assert "pulumi config set gcpProject <project-id> --stack test" in message


@pytest.mark.parametrize("project", ["My Project", "123456789012", "ab"])
def test_project_that_is_not_a_project_id(project: str) -> None:
    message = only_problem({**GCP, "gcpProject": project})
    assert f"pdk-deployer:gcpProject = {project!r}: is not a project id" in message


def test_api_access_must_be_named() -> None:
    message = only_problem({"target": "gcp", "gcpProject": "pdk-test-project"})
    assert "pdk-deployer:gcpApiAccessCidrs = (not set): is required on gcp" in message
    assert "pulumi config set gcpApiAccessCidrs <your-ip>/32 --stack test" in message


def test_api_access_cidr_that_does_not_parse() -> None:
    message = only_problem({**GCP, "gcpApiAccessCidrs": "office"})
    assert "pdk-deployer:gcpApiAccessCidrs = 'office'" in message
    assert "not a network in CIDR notation" in message


def test_api_open_to_everyone_is_a_warning() -> None:
    config = load_config("test", {**GCP, "gcpApiAccessCidrs": "0.0.0.0/0"})
    (warning,) = [w for w in config.warnings if w.key == "gcpApiAccessCidrs"]
    assert "0.0.0.0/0 lets anyone on the internet reach the GKE API endpoint" in warning.render()
    # GCP's 203.0.113.7/32 is a placeholder (tests/test_placeholders.py), not a risk.
    risks = [w for w in load_config("test", GCP).warnings if not w.placeholder]
    assert not [w for w in risks if w.key == "gcpApiAccessCidrs"]


def test_kubernetes_version_past_gke_standard_support_is_a_warning() -> None:
    config = load_config("test", {**GCP, "kubernetesVersion": "1.34"})
    (warning,) = [w for w in config.warnings if w.key == "kubernetesVersion"]
    assert "'1.34': left GKE standard support on 2026-08-30" in warning.render()
    assert not [w for w in load_config("test", GCP).warnings if w.key == "kubernetesVersion"]


def test_zone_outside_the_region() -> None:
    message = only_problem({**GCP, "gcpZone": "europe-west4-a"})
    assert (
        "pdk-deployer:gcpZone = 'europe-west4-a': is a zone of region europe-west4, not of "
        "gcpRegion us-central1" in message
    )
    assert "pulumi config set gcpZone us-central1-c --stack test" in message


def test_zone_follows_the_region() -> None:
    config = load_config("test", {**GCP, "gcpRegion": "europe-west4", "gcpZone": "europe-west4-a"})
    assert config.section(GcpConfig).zone == "europe-west4-a"


def test_accelerator_not_offered_on_the_machine_type() -> None:
    message = only_problem({**GCP, "gcpGpuInstanceType": "g2-standard-8"})
    assert (
        "pdk-deployer:gcpGpuAcceleratorType = 'nvidia-tesla-t4': is not offered on machine type "
        "g2-standard-8, which takes nvidia-l4" in message
    )
    assert "pulumi config set gcpGpuAcceleratorType nvidia-l4 --stack test" in message


def test_machine_type_without_gpus() -> None:
    message = only_problem({**GCP, "gcpGpuInstanceType": "e2-standard-8"})
    assert "pdk-deployer:gcpGpuInstanceType = 'e2-standard-8': is not a GPU machine type" in message
    assert "pulumi config set gpuEnabled false --stack test" in message


def test_gpu_count_the_machine_does_not_take() -> None:
    message = only_problem({**GCP, "gcpGpuAcceleratorCount": 3})
    assert "pdk-deployer:gcpGpuAcceleratorCount = 3: is not a GPU count n1-standard-8 takes" in (
        message
    )
    assert "Allowed: 1, 2, 4." in message


def test_slots_per_pod_beyond_the_gpus_of_a_node() -> None:
    message = only_problem({**GCP, "mldeMaxSlotsPerPod": 4})
    assert "pdk-deployer:mldeMaxSlotsPerPod = 4: exceeds the 1 GPU(s) of one n1-standard-8" in (
        message
    )
    load_config("test", {**GCP, "mldeMaxSlotsPerPod": 4, "gcpGpuAcceleratorCount": 4})


def test_every_gpu_machine_in_the_table_is_valid_with_its_own_accelerator() -> None:
    for machine, (accelerator, counts) in GPU_MACHINES.items():
        load_config(
            "test",
            {
                **GCP,
                "gcpGpuInstanceType": machine,
                "gcpGpuAcceleratorType": accelerator,
                "gcpGpuAcceleratorCount": counts[-1],
            },
        )


@pytest.mark.parametrize("tier", sorted(FILESTORE_MIN_GIB))
def test_filestore_size_under_the_tier_minimum(tier: str) -> None:
    least = FILESTORE_MIN_GIB[tier]
    message = only_problem({**GCP, "gcpFilestoreTier": tier, "gcpFilestoreCapacity": least - 1})
    assert f"pdk-deployer:gcpFilestoreCapacity = {least - 1}: is outside what Filestore tier " in (
        message
    )
    assert f"Allowed: {least} to 65433 GiB." in message
    load_config("test", {**GCP, "gcpFilestoreTier": tier, "gcpFilestoreCapacity": least})


def test_keys_of_another_target_are_refused() -> None:
    message = only_problem({**GCP, "awsRegion": "us-east-1"})
    assert "pdk-deployer:awsRegion = 'us-east-1': only applies to target aws, not 'gcp'" in message
    message = only_problem(
        {"target": "aws", "awsApiAccessCidrs": "203.0.113.7/32", "gcpProject": "pdk-test-project"}
    )
    assert "pdk-deployer:gcpProject = 'pdk-test-project': only applies to target gcp" in message


def test_a_gpu_taint_other_than_gkes() -> None:
    message = only_problem({**GCP, "gpuTaint": "gpu=yes:NoSchedule"})
    assert "pdk-deployer:gpuTaint = 'gpu=yes:NoSchedule': differs from the taint GKE puts" in (
        message
    )


def test_gpu_keys_on_a_cpu_only_stack_would_be_ignored() -> None:
    message = only_problem(
        {**GCP, "gpuEnabled": False, "mldeComputePool": "default", "gcpGpuSpot": True}
    )
    assert "pdk-deployer:gcpGpuSpot = True: is set but unused" in message


def test_gpu_machine_is_not_checked_on_a_cpu_only_stack() -> None:
    load_config("test", {**GCP, "gpuEnabled": False, "mldeComputePool": "default"})


def test_existing_network_needs_its_subnet_and_ranges() -> None:
    found = problems({**GCP, "gcpExistingNetwork": "shared-vpc"})
    assert len(found) == 3
    for key in ("gcpExistingSubnetwork", "gcpExistingPodsRange", "gcpExistingServicesRange"):
        assert any(
            f"pdk-deployer:{key} = (not set): is required with gcpExistingNetwork" in p
            for p in found
        )


def test_subnet_without_existing_network_would_be_ignored() -> None:
    message = only_problem({**GCP, "gcpExistingSubnetwork": "nodes"})
    assert "pdk-deployer:gcpExistingSubnetwork = 'nodes': is set but unused" in message


def test_new_network_ranges_must_not_overlap() -> None:
    message = only_problem({**GCP, "gcpServicesCidr": "10.20.0.0/20"})
    assert "pdk-deployer:gcpServicesCidr = '10.20.0.0/20': overlaps gcpPodsCidr" in message


def test_control_plane_range_is_a_28() -> None:
    message = only_problem({**GCP, "gcpControlPlaneCidr": "172.16.0.0/24"})
    assert "pdk-deployer:gcpControlPlaneCidr = '172.16.0.0/24': is not a /28" in message


@pytest.mark.parametrize("cidr", ["8.8.8.0/24", "10.10.0.1/20", "fd00::/8"])
def test_ranges_must_be_private_ipv4(cidr: str) -> None:
    message = only_problem({**GCP, "gcpNodeCidr": cidr})
    assert f"pdk-deployer:gcpNodeCidr = {cidr!r}: is not a private IPv4 range" in message


def test_database_tier_must_fit_the_edition() -> None:
    message = only_problem({**GCP, "gcpDbEdition": "ENTERPRISE_PLUS"})
    assert (
        "pdk-deployer:gcpDbTier = 'db-custom-2-7680': is not a tier of Cloud SQL edition "
        "ENTERPRISE_PLUS" in message
    )
    load_config(
        "test", {**GCP, "gcpDbEdition": "ENTERPRISE_PLUS", "gcpDbTier": "db-perf-optimized-N-2"}
    )


def test_deployment_id_too_long_for_service_account_ids() -> None:
    message = only_problem({**GCP, "deploymentId": "eighteen-chars-id1"})
    assert "pdk-deployer:deploymentId = 'eighteen-chars-id1': makes service account ids" in (
        message
    )


@pytest.mark.parametrize("pool", ["Cpu", "Gpu"])
def test_min_larger_than_max(pool: str) -> None:
    message = only_problem(
        {**GCP, f"gcp{pool}MinSize": 3, f"gcp{pool}MaxSize": 2, f"gcp{pool}DesiredSize": 2}
    )
    assert f"pdk-deployer:gcp{pool}MinSize = 3: is larger than gcp{pool}MaxSize (2)" in message


def test_cpu_pool_cannot_scale_to_zero() -> None:
    message = only_problem({**GCP, "gcpCpuMinSize": 0, "gcpCpuDesiredSize": 0})
    assert "pdk-deployer:gcpCpuMinSize = 0: is 0, but the CPU pool runs" in message


def test_bad_stack_fails_once_before_anything_is_registered(tmp_path: Path) -> None:
    """Through the CLI: exit 2, every problem in one message, no traceback, no plan."""
    root = tmp_path / "repo"
    for name in ("infra", "stacks"):
        shutil.copytree(REPO_ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "stacks" / "Pulumi.bad.yaml").write_text("config:\n  pdk-deployer:target: gcp\n")
    result = subprocess.run(
        [sys.executable, "-m", "infra.cli", "plan", "-s", "bad"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "Stack 'bad' has 2 configuration problems:" in result.stderr
    assert "gcpProject = (not set): is required on gcp" in result.stderr
    assert "gcpApiAccessCidrs = (not set): is required on gcp" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
