"""The AWS target's config checks: one test per message, each raised before anything is
registered (``load_config`` runs before the program builds a resource)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config.load import load_config
from infra.config.types import OFFLINE_SECRET
from infra.targets.aws.config import GPU_INSTANCE_GPUS, AwsConfig
from tests.conftest import only_problem, problems

AWS = {"target": "aws", "awsApiAccessCidrs": "203.0.113.7/32"}
VPC = "vpc-0123456789abcdef0"
SUBNETS = "subnet-0123456789abcdef0,subnet-0123456789abcdef1"


def test_a_minimal_aws_stack_is_valid() -> None:
    config = load_config("test", AWS)
    assert config.target == "aws"
    assert config.section(AwsConfig).region == "us-east-2"
    assert config.section(AwsConfig).gpu.min_size == 0


def test_api_access_must_be_named() -> None:
    message = only_problem({"target": "aws"})
    assert "pdk-deployer:awsApiAccessCidrs = (not set): is required on aws" in message
    assert "pulumi config set awsApiAccessCidrs <your-ip>/32 --stack test" in message


@pytest.mark.parametrize("cidrs", ["203.0.113.7/33", "10.0.0.1/8", "office"])
def test_api_access_cidrs_that_do_not_parse(cidrs: str) -> None:
    message = only_problem({**AWS, "awsApiAccessCidrs": cidrs})
    assert "pdk-deployer:awsApiAccessCidrs" in message
    assert "not a network in CIDR notation" in message


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "10.0.0.1/16", "not-a-cidr", "fd00::/16"])
def test_vpc_cidr_that_does_not_parse(cidr: str) -> None:
    message = only_problem({**AWS, "awsVpcCidr": cidr})
    assert f"pdk-deployer:awsVpcCidr = {cidr!r}" in message


def test_vpc_cidr_too_small_for_the_subnets() -> None:
    message = only_problem({**AWS, "awsVpcCidr": "10.0.0.0/24"})
    assert "is not an IPv4 range of size /16 to /20" in message


@pytest.mark.parametrize("instance", ["m5.2xlarge", "inf2.xlarge", "g4ad.xlarge", "g5g.xlarge"])
def test_gpu_instance_type_without_nvidia_gpus(instance: str) -> None:
    message = only_problem({**AWS, "awsGpuInstanceType": instance})
    assert f"pdk-deployer:awsGpuInstanceType = {instance!r}: has no NVIDIA GPU" in message
    assert "g4dn.*" in message
    assert "pulumi config set gpuEnabled false --stack test" in message


def test_gpu_instance_size_that_does_not_exist() -> None:
    message = only_problem({**AWS, "awsGpuInstanceType": "g4dn.large"})
    assert "is not a size of the g4dn family" in message
    assert "g4dn.xlarge" in message


def test_gpu_instance_type_is_not_checked_on_a_cpu_only_stack() -> None:
    config = load_config("test", {**AWS, "gpuEnabled": "false", "mldeComputePool": "default"})
    assert not config.gpu.enabled


def test_gpu_keys_on_a_cpu_only_stack_would_be_ignored() -> None:
    message = only_problem({**AWS, "gpuEnabled": "false", "awsGpuInstanceType": "g5.xlarge"})
    assert "pdk-deployer:awsGpuInstanceType = 'g5.xlarge': is set but unused" in message


def test_slots_per_pod_beyond_the_gpu_node() -> None:
    message = only_problem({**AWS, "mldeMaxSlotsPerPod": 4})
    assert "pdk-deployer:mldeMaxSlotsPerPod = 4: exceeds the 1 GPU(s) of one g4dn.xlarge" in message
    load_config("test", {**AWS, "mldeMaxSlotsPerPod": 4, "awsGpuInstanceType": "g4dn.12xlarge"})


@pytest.mark.parametrize("pool", ["Cpu", "Gpu"])
def test_min_larger_than_max(pool: str) -> None:
    message = only_problem(
        {**AWS, f"aws{pool}MinSize": 3, f"aws{pool}MaxSize": 2, f"aws{pool}DesiredSize": 2}
    )
    assert f"pdk-deployer:aws{pool}MinSize = 3: is larger than aws{pool}MaxSize (2)" in message


def test_desired_outside_min_and_max() -> None:
    message = only_problem({**AWS, "awsCpuDesiredSize": 9})
    assert "pdk-deployer:awsCpuDesiredSize = 9: is outside awsCpuMinSize..awsCpuMaxSize (1..4)" in (
        message
    )


def test_cpu_group_cannot_scale_to_zero() -> None:
    message = only_problem({**AWS, "awsCpuMinSize": 0})
    assert "pdk-deployer:awsCpuMinSize = 0: is 0, but the CPU group runs the platform" in message


def test_gpu_group_can_scale_to_zero() -> None:
    assert load_config("test", AWS).section(AwsConfig).gpu.min_size == 0


def test_availability_zone_outside_the_region() -> None:
    message = only_problem({**AWS, "awsAvailabilityZones": "us-east-2a,us-west-2b"})
    assert "names 'us-west-2b', which is not a zone of region us-east-2" in message
    assert "pulumi config set awsAvailabilityZones us-east-2a,us-east-2b,us-east-2c" in message


@pytest.mark.parametrize("zones", ["us-east-2a", "us-east-2a,us-east-2a"])
def test_too_few_distinct_zones(zones: str) -> None:
    message = only_problem({**AWS, "awsAvailabilityZones": zones})
    assert "must name 2 to 6 different zones" in message


def test_zones_follow_the_region() -> None:
    config = load_config(
        "test", {**AWS, "awsRegion": "eu-west-1", "awsAvailabilityZones": "eu-west-1a,eu-west-1b"}
    )
    assert config.section(AwsConfig).region == "eu-west-1"


def test_region_that_is_not_a_region() -> None:
    message = only_problem({**AWS, "awsRegion": "Ohio"})
    assert "pdk-deployer:awsRegion = 'Ohio': is not an AWS region" in message


@pytest.mark.parametrize(
    ("missing", "remaining"),
    [("awsPrivateSubnetIds", "awsPublicSubnetIds"), ("awsPublicSubnetIds", "awsPrivateSubnetIds")],
)
def test_existing_vpc_without_subnets(missing: str, remaining: str) -> None:
    message = only_problem({**AWS, "awsExistingVpcId": VPC, remaining: SUBNETS})
    assert f"pdk-deployer:{missing} = (not set): lists 0 subnet(s)" in message
    assert "awsExistingVpcId needs at least" in message


def test_existing_vpc_with_one_private_subnet() -> None:
    message = only_problem(
        {
            **AWS,
            "awsExistingVpcId": VPC,
            "awsPrivateSubnetIds": "subnet-0123456789abcdef0",
            "awsPublicSubnetIds": SUBNETS,
        }
    )
    assert "lists 1 subnet(s), but awsExistingVpcId needs at least 2" in message


def test_existing_vpc_with_new_vpc_keys_would_ignore_them() -> None:
    found = problems(
        {
            **AWS,
            "awsExistingVpcId": VPC,
            "awsPrivateSubnetIds": SUBNETS,
            "awsPublicSubnetIds": SUBNETS,
            "awsVpcCidr": "10.1.0.0/16",
        }
    )
    assert len(found) == 1
    assert "pdk-deployer:awsVpcCidr = '10.1.0.0/16': is set but awsExistingVpcId is too" in found[0]


def test_subnets_without_an_existing_vpc_would_be_ignored() -> None:
    message = only_problem({**AWS, "awsPrivateSubnetIds": SUBNETS})
    assert "is set but awsExistingVpcId is not" in message


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("awsExistingVpcId", "vpc-xyz", "is not a vpc id"),
        ("awsPrivateSubnetIds", "subnet-0123456789abcdef0,sub-1", "'sub-1', which is not a subnet"),
        ("awsCpuInstanceType", "m5", "is not an EC2 instance type"),
        ("awsDbEngineVersion", "sixteen", "is not a Postgres engine version"),
        ("awsCpuDiskSize", 5, "is not a disk size in GiB"),
        ("awsEcrKeepImages", 0, "is not an image count"),
    ],
)
def test_single_key_formats(key: str, value: Any, reason: str) -> None:
    raw: dict[str, Any] = {**AWS, key: value}
    if key == "awsPrivateSubnetIds":
        raw.update(awsExistingVpcId=VPC, awsPublicSubnetIds=SUBNETS)
    if key == "awsExistingVpcId":
        raw.update(awsPrivateSubnetIds=SUBNETS, awsPublicSubnetIds=SUBNETS)
    assert reason in only_problem(raw)


def test_autoscaler_minor_must_match_the_cluster() -> None:
    message = only_problem({**AWS, "kubernetesVersion": "1.34"})
    assert "is cluster-autoscaler 1.35, but the cluster runs Kubernetes 1.34" in message


def test_aws_keys_on_an_existing_cluster() -> None:
    message = only_problem({"target": "existing", "awsRegion": "eu-west-1"})
    assert "pdk-deployer:awsRegion = 'eu-west-1': only applies to target aws" in message


def test_existing_cluster_keys_on_aws() -> None:
    message = only_problem({**AWS, "registry": "localhost:5001/pdk"})
    assert "only applies to target existing, not 'aws'" in message


def test_every_gpu_family_lists_its_sizes() -> None:
    for family, sizes in GPU_INSTANCE_GPUS.items():
        assert sizes and all(count >= 1 for count in sizes.values()), family


def test_slots_beyond_the_gpu_instance_compared_as_numbers() -> None:
    """Defect class 4: Pulumi passes '4' as text; the rule compared types and never fired."""
    message = only_problem({**AWS, "awsGpuInstanceType": "g4dn.xlarge", "mldeMaxSlotsPerPod": "4"})
    assert "pdk-deployer:mldeMaxSlotsPerPod = 4: exceeds the 1 GPU(s) of one g4dn.xlarge" in message


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-gov-west-1", "aws-us-gov"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
        ("us-iso-east-1", "aws-iso"),
    ],
)
def test_regions_of_other_partitions_are_refused(region: str, partition: str) -> None:
    """Defect class 7: ARNs are written arn:aws:, so other partitions cannot work."""
    message = only_problem({**AWS, "awsRegion": region})
    assert f"pdk-deployer:awsRegion = {region!r}: is in the {partition}" in message


def test_bare_address_for_the_api_endpoint() -> None:
    """Defect class 5 on the EKS API access list."""
    message = only_problem({**AWS, "awsApiAccessCidrs": "203.0.113.7"})
    assert "contains '203.0.113.7', which is not a network in CIDR notation" in message


def test_api_open_to_the_internet_is_a_warning() -> None:
    config = load_config("test", {**AWS, "awsApiAccessCidrs": "0.0.0.0/0"})
    [warning] = [w for w in config.warnings if w.key == "awsApiAccessCidrs"]
    assert "0.0.0.0/0 lets anyone on the internet reach the EKS API endpoint" in warning.render()


def test_secret_api_access_offline_is_not_taken_for_missing() -> None:
    """Defect class 6 on a rule: the undecrypted value is set, just unreadable offline."""
    config = load_config(
        "test", {**AWS, "awsApiAccessCidrs": OFFLINE_SECRET}, frozenset({"awsApiAccessCidrs"})
    )
    assert config.target == "aws"


@pytest.mark.parametrize("value", ["db.m6g.huge", "db.m9z.large", "m6g.large", "db.t2.micro"])
def test_unknown_database_class(value: str) -> None:
    message = only_problem({**AWS, "awsDbInstanceClass": value})
    assert "is not an RDS for PostgreSQL instance class" in message


@pytest.mark.parametrize("value", ["m5.xxlarge", "m5.big", "m5.2xlarg", "m5"])
def test_unknown_instance_size(value: str) -> None:
    assert "is not an EC2 instance type" in only_problem({**AWS, "awsCpuInstanceType": value})


@pytest.mark.parametrize("value", ["m7g.2xlarge", "c6gn.xlarge", "t4g.large", "a1.xlarge"])
def test_arm_instance_for_the_x86_cpu_group(value: str) -> None:
    message = only_problem({**AWS, "awsCpuInstanceType": value})
    assert "is an Arm (Graviton) type, but the CPU group runs x86_64 nodes" in message


def test_pool_sizes_from_text_are_compared_as_numbers() -> None:
    """'10' > '9' as text would be false; the shared pool rule reads integers."""
    message = only_problem({**AWS, "awsCpuMaxSize": "9", "awsCpuMinSize": "10"})
    assert "pdk-deployer:awsCpuMinSize = 10: is larger than awsCpuMaxSize (9)" in message
