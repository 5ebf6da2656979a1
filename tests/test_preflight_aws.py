"""`pdk preflight` for the AWS target, against moto and stubbed clients (no AWS account here).

What is real: moto 5.2.5 (``mock_aws``) serves STS ``GetCallerIdentity``, EC2
``DescribeRegions`` (with opt-in statuses), ``DescribeAvailabilityZones``,
``DescribeInstanceTypeOfferings`` (from moto's bundled per-zone snapshot) and
``DescribeInstanceTypes`` (vCPUs). moto does not implement Service Quotas for ``ec2`` (it raises
NoSuchResourceException) nor EKS ``DescribeClusterVersions`` ("Not yet implemented"), so those
two clients are botocore ``Stubber``s with responses in the shape of the API reference: the
tests prove how the checks read them, not what AWS returns today.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from infra.ops.preflight import Check, MissingCredentials, PreflightContext, exit_code
from infra.targets.aws import ops as aws_ops

REGION = "us-east-2"


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto accepts any keys; never reach instance metadata from a test.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


def resources(
    region: str = REGION,
    zones: tuple[str, ...] = ("us-east-2a", "us-east-2b", "us-east-2c"),
    gpu_type: str = "g4dn.xlarge",
    gpu_max: int = 2,
    capacity: str = "ON_DEMAND",
    version: str = "1.33",
) -> list[dict[str, Any]]:
    """The resources the checks read, shaped as the offline plan records them."""
    subnets = [
        {"type": "aws:ec2/subnet:Subnet", "name": f"private-{z}", "inputs": {"availabilityZone": z}}
        for z in zones
    ]
    names = [s["name"] for s in subnets]

    def group(name: str, instance: str, high: int, capacity_type: str) -> dict[str, Any]:
        return {
            "type": "aws:eks/nodeGroup:NodeGroup",
            "name": name,
            "dependencies": names,
            "inputs": {
                "instanceTypes": [instance],
                "capacityType": capacity_type,
                "scalingConfig": {"minSize": 0, "maxSize": high, "desiredSize": 0},
            },
        }

    return [
        {"type": "pulumi:providers:aws", "name": "aws", "inputs": {"region": region}},
        *subnets,
        group("cpu", "m5.2xlarge", 4, "ON_DEMAND"),
        group("gpu", gpu_type, gpu_max, capacity),
        {"type": "aws:eks/cluster:Cluster", "name": "eks", "inputs": {"version": version}},
    ]


class Clients:
    """moto-backed clients, except Service Quotas and EKS, which are stubbed."""

    def __init__(self, quotas: dict[str, float] | None, versions: list[dict[str, Any]] | None):
        self.quotas, self.versions = quotas, versions
        self.stubs: list[Stubber] = []

    def __call__(self, service: str, region_name: str | None = None) -> Any:
        client = boto3.client(service, region_name=region_name)
        if service == "service-quotas":
            stub = Stubber(client)
            for code, value in (self.quotas or {}).items():
                stub.add_response(
                    "get_service_quota",
                    {"Quota": {"QuotaCode": code, "Value": value, "ServiceCode": "ec2"}},
                    {"ServiceCode": "ec2", "QuotaCode": code},
                )
            if self.quotas is None:
                stub.add_client_error("get_service_quota", "AccessDeniedException", "denied by SCP")
            stub.activate()
            self.stubs.append(stub)
        if service == "eks":
            stub = Stubber(client)
            stub.add_response("describe_cluster_versions", {"clusterVersions": self.versions or []})
            stub.activate()
            self.stubs.append(stub)
        return client


STANDARD = {"clusterVersion": "1.33", "versionStatus": "STANDARD_SUPPORT"}
# In the order the checks ask: by quota family (G before standard), as the Stubber replays.
QUOTAS_OK = {"L-DB2E81BA": 8.0, "L-1216C47A": 64.0}


def run(
    plan: list[dict[str, Any]],
    quotas: dict[str, float] | None = None,
    versions: list[dict[str, Any]] | None = None,
    account: str | None = None,
) -> dict[str, Check]:
    clients = Clients(QUOTAS_OK if quotas is None else quotas, versions or [STANDARD])
    context = PreflightContext("aws", plan, expect_account=account, clients=clients)
    return {check.name: check for check in aws_ops.preflight(context)}


def test_everything_passes_for_the_committed_sizes(moto: None) -> None:
    results = run(resources(), account="123456789012")
    assert {c.status for c in results.values()} == {"pass"}, results
    assert "123456789012" in results["credentials"].detail
    assert results["g4dn.xlarge in gpu"].detail.startswith("offered in us-east-2a")
    # 2 x g4dn.xlarge (4 vCPUs) at max against the G quota.
    assert "8 needed" in results["On-Demand G and VT vCPU quota (L-DB2E81BA)"].detail
    assert "16 needed" not in results["On-Demand G and VT vCPU quota (L-DB2E81BA)"].detail
    assert exit_code(list(results.values())) == 0


def test_the_real_aws_plan_is_checked(moto: None, snapshots: dict[str, Any]) -> None:
    """The committed `aws` stack's own resources feed the checks (not a hand-made list)."""
    results = run(snapshots["aws"]["resources"])
    assert results["zones"].status == "pass"
    assert results["region"].detail == "us-east-2 is enabled"
    assert {"m5.2xlarge in cluster-nodes-cpu", "g4dn.xlarge in cluster-nodes-gpu"} <= set(results)


def test_wrong_account_fails(moto: None) -> None:
    results = run(resources(), account="999999999999")
    assert results["credentials"].status == "fail"
    assert "not 999999999999" in results["credentials"].detail


def test_region_not_enabled_fails(moto: None) -> None:
    results = run(resources(region="ap-east-1", zones=("ap-east-1a",)))
    assert results["region"].status == "fail"
    assert "not enabled" in results["region"].detail


def test_unknown_zone_fails(moto: None) -> None:
    results = run(resources(zones=("us-east-2a", "us-east-2z")))
    assert results["zones"].status == "fail"
    assert "us-east-2z" in results["zones"].detail


def test_instance_type_missing_in_one_zone_fails(moto: None) -> None:
    # moto's offerings snapshot has g7e.8xlarge in us-east-2a and 2b only.
    results = run(
        resources(gpu_type="g7e.8xlarge", gpu_max=1),
        quotas={"L-DB2E81BA": 64.0, "L-1216C47A": 64.0},
    )
    check = results["g7e.8xlarge in gpu"]
    assert check.status == "fail" and "us-east-2c" in check.detail
    assert "awsAvailabilityZones" in check.fix


def test_gpu_quota_below_max_size_fails(moto: None) -> None:
    results = run(resources(gpu_max=4), quotas={"L-DB2E81BA": 8.0, "L-1216C47A": 64.0})
    check = results["On-Demand G and VT vCPU quota (L-DB2E81BA)"]
    assert check.status == "fail"
    assert "need 16" in check.detail and "L-DB2E81BA" in check.fix
    assert exit_code(list(results.values())) == 1


def test_spot_uses_the_spot_quota(moto: None) -> None:
    results = run(resources(capacity="SPOT"), quotas={"L-3819A6DF": 0.0, "L-1216C47A": 64.0})
    check = results["Spot G and VT vCPU quota (L-3819A6DF)"]
    assert check.status == "fail"


def test_unreadable_quota_is_a_warning(moto: None) -> None:
    clients = Clients(None, [STANDARD])
    context = PreflightContext("aws", resources(), clients=clients)
    results = {c.name: c for c in aws_ops.preflight(context)}
    warned = [c for c in results.values() if "quota" in c.name]
    assert warned and all(c.status == "warn" for c in warned)
    assert "AccessDeniedException" in warned[0].detail


def test_kubernetes_version_not_offered_fails(moto: None) -> None:
    results = run(resources(version="1.20"), versions=[])
    assert results["EKS Kubernetes 1.20"].status == "fail"


def test_kubernetes_version_in_extended_support_warns(moto: None) -> None:
    extended = {"clusterVersion": "1.33", "versionStatus": "EXTENDED_SUPPORT"}
    results = run(resources(), versions=[extended])
    assert results["EKS Kubernetes 1.33"].status == "warn"
    assert "0.60" in results["EKS Kubernetes 1.33"].detail


def test_no_credentials_is_one_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Real botocore credential resolution with nothing to find (no moto): it fails before any
    request is sent."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    context = PreflightContext("aws", resources())
    with pytest.raises(MissingCredentials, match="AWS_PROFILE"):
        list(aws_ops.preflight(context))


def test_quota_families() -> None:
    assert aws_ops.quota_family("g4dn.xlarge") == "g"
    assert aws_ops.quota_family("vt1.3xlarge") == "g"
    assert aws_ops.quota_family("p5.48xlarge") == "p"
    assert aws_ops.quota_family("inf2.xlarge") == "inf"
    assert aws_ops.quota_family("m5.2xlarge") == "standard"
    assert aws_ops.quota_family("trn1.2xlarge") is None


def test_cli_without_credentials_exits_2_with_one_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from typer.testing import CliRunner

    from infra.cli import app

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result = CliRunner().invoke(app, ["preflight", "-s", "aws"])
    assert result.exit_code == 2
    assert "no AWS credentials" in result.output and "Traceback" not in result.output
    missing = CliRunner().invoke(
        app, ["preflight", "-s", "onprem", "--kubeconfig", str(tmp_path / "none")]
    )
    assert missing.exit_code == 2 and "no usable kubeconfig" in missing.output
