"""The AWS leak query against moto (5.2.5): tagged resources left, describe calls confirming.

moto's tagging API answers from its live in-memory backends, so it never lists a deleted
resource; the "ghost" entries real AWS returns for hours (aws/aws-sdk#302) are reproduced by
stubbing only the tagging client (``botocore.stub.Stubber``) in front of moto's describe calls.
moto does not model controller behaviour (LB controller, CSI), only the API shapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from infra.ops.leaks import LeakQuery
from infra.targets.aws.leaks import find_leaks

REGION = "eu-west-1"
ID = "ci-aws-7"
TAG = [{"Key": "pdk-deployer/deployment-id", "Value": ID}]
STATE = [{"type": "pulumi:providers:aws", "inputs": {"region": REGION}}]


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_tagged_leftovers_are_found_and_confirmed(aws: None) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    volume = ec2.create_volume(
        AvailabilityZone=f"{REGION}a",
        Size=10,
        TagSpecifications=[{"ResourceType": "volume", "Tags": TAG}],
    )["VolumeId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(
        GroupName="k8s-elb-a1",
        Description="made by the cloud provider for a LoadBalancer Service",
        VpcId=vpc,
        TagSpecifications=[
            {
                "ResourceType": "security-group",
                "Tags": [{"Key": f"kubernetes.io/cluster/pdk-{ID}-eks", "Value": "owned"}],
            }
        ],
    )["GroupId"]
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key(Tags=[{"TagKey": TAG[0]["Key"], "TagValue": ID}])["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    boto3.client("iam").create_role(RoleName=f"pdk-{ID}-mldm", AssumeRolePolicyDocument="{}")
    boto3.client("iam").create_role(RoleName="pdk-ci-aws-70-mldm", AssumeRolePolicyDocument="{}")
    untagged = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]

    report = find_leaks(LeakQuery(ID, {}, STATE))

    found = {(leak.kind, leak.id.rsplit("/", 1)[-1], leak.confirmed) for leak in report.leaks}
    assert found == {
        ("ec2:volume", volume, True),
        ("ec2:security-group", group, True),
        ("iam:role", f"pdk-{ID}-mldm", True),
    }
    assert not any(untagged in leak.id for leak in report.leaks)
    # A key pending deletion is as gone as AWS allows.
    assert [ghost.rsplit("/", 1)[-1] for ghost in report.ghosts] == [key]
    assert report.errors == [] and not report.clean
    assert f"tagging API in {REGION}: pdk-deployer/deployment-id={ID}" in report.queried


def test_nothing_left_is_clean(aws: None) -> None:
    report = find_leaks(LeakQuery(ID, {"awsRegion": REGION}, []))
    assert report.clean and report.leaks == [] and len(report.queried) == 5


def _stubbed_tagging(arns: list[str]) -> Any:
    tagging = boto3.client("resourcegroupstaggingapi", region_name=REGION)
    stubber = Stubber(tagging)
    for index in range(4):  # one page per tag filter
        mappings = [{"ResourceARN": arn, "Tags": TAG} for arn in arns] if index == 0 else []
        stubber.add_response("get_resources", {"ResourceTagMappingList": mappings})
    stubber.activate()
    return tagging


def test_ghosts_are_told_apart_and_unknown_types_count_as_unconfirmed(aws: None) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    live = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]
    gone = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]
    ec2.delete_volume(VolumeId=gone)
    account = "123456789012"
    arns = [
        f"arn:aws:ec2:{REGION}:{account}:volume/{live}",
        f"arn:aws:ec2:{REGION}:{account}:volume/{gone}",
        f"arn:aws:elasticloadbalancing:{REGION}:{account}:targetgroup/k8s-tg/abc",
    ]
    tagging = _stubbed_tagging(arns)

    def clients(service: str, region: str) -> Any:
        return tagging if service == "resourcegroupstaggingapi" else boto3.client(service, region)

    report = find_leaks(LeakQuery(ID, {}, STATE), client_factory=clients)
    assert report.ghosts == [arns[1]]
    assert [(leak.id, leak.confirmed, leak.detail) for leak in report.leaks] == [
        (arns[0], True, ""),
        (arns[2], False, "no describe check for this type"),
    ]


def test_a_failed_query_makes_the_report_not_clean(aws: None) -> None:
    def broken(service: str, region: str) -> Any:
        client = boto3.client(service, region)
        stubber = Stubber(client)
        for _ in range(4):
            stubber.add_client_error("get_resources", "AccessDeniedException", "not allowed")
        stubber.add_client_error("list_roles", "AccessDenied", "not allowed")
        stubber.activate()
        return client

    report = find_leaks(LeakQuery(ID, {}, STATE), client_factory=broken)
    assert report.leaks == [] and not report.clean
    assert len(report.errors) == 5 and "AccessDeniedException" in report.errors[0]
