"""The AWS target under Pulumi's mocks: properties of what ``pulumi up -s aws`` would create.

The committed ``aws`` stack is planned once (``snapshots``); variants (ephemeral, existing VPC,
CPU-only, single NAT) are planned here from config. Cloud-computed outputs (ARNs, the OIDC
issuer, the RDS address) come from ``infra.targets.aws.mocks``.
"""

from __future__ import annotations

import importlib
import inspect
import json
from typing import Any

import pytest

from infra.config.load import load_config
from infra.contract import WORKLOAD_SERVICE_ACCOUNTS
from infra.naming import Naming
from infra.plan.stackfiles import read_stack
from infra.targets.aws.mocks import ACCOUNT
from infra.targets.aws.network import subnet_ranges
from policy.rules import check as policy_check
from tests.conftest import depends_on, of_type, plan_variant, releases, resource

STACK = "aws"


def variant(**overrides: str) -> dict[str, Any]:
    return plan_variant(STACK, **overrides)


@pytest.fixture(scope="module")
def aws(snapshots: dict[str, Any]) -> dict[str, Any]:
    return snapshots[STACK]


def policy(resource_: dict[str, Any], key: str = "policy") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resource_["inputs"][key])
    return document


# --- database ---------------------------------------------------------------------------------


def test_database_is_private_encrypted_and_kept(aws: dict[str, Any]) -> None:
    (db,) = of_type(aws, "aws:rds/instance:Instance")
    inputs = db["inputs"]
    assert not policy_check(aws, "database-not-public")
    assert not policy_check(aws, "encryption-at-rest")
    assert inputs["autoMinorVersionUpgrade"] is True
    assert inputs["deletionProtection"] is True
    assert inputs["skipFinalSnapshot"] is False and inputs["finalSnapshotIdentifier"]
    assert inputs["password"] == "[secret]"
    assert db["protect"] is True


def test_database_is_reachable_only_from_the_cluster(aws: dict[str, Any]) -> None:
    (db,) = of_type(aws, "aws:rds/instance:Instance")
    (group_id,) = db["inputs"]["vpcSecurityGroupIds"]
    rules = [
        r
        for r in of_type(aws, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r["inputs"]["securityGroupId"] == group_id
    ]
    assert len(rules) == 1
    (rule,) = rules
    assert rule["inputs"]["referencedSecurityGroupId"] == "sg-cluster-mock"
    assert "cidrIpv4" not in rule["inputs"]
    assert rule["inputs"]["fromPort"] == rule["inputs"]["toPort"] == 5432
    subnets = resource(aws, "cluster-postgres-subnets")["inputs"]["subnetIds"]
    private = {
        r["name"] + "-id" for r in of_type(aws, "aws:ec2/subnet:Subnet") if "private" in r["name"]
    }
    assert set(subnets) == private


def test_databases_are_created_over_tls_after_the_server(aws: dict[str, Any]) -> None:
    job = resource(aws, "cluster-postgres-databases")
    env = {e["name"]: e for e in job["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PGSSLMODE"]["value"] == "verify-full"
    assert env["PGHOST"]["value"] == "pdk-aws-postgres.mock.us-east-2.rds.amazonaws.com"
    assert "value" not in env["PGPASSWORD"]  # read from the Secret
    assert "cluster-postgres-instance" in depends_on(aws, "cluster-postgres-databases")
    values = releases(aws)["mldm-release"]["values"]
    assert values["global"]["postgresql"]["postgresqlSSL"] == "verify-full"


def test_no_security_group_opens_database_or_nfs_ports_to_the_internet(aws: dict[str, Any]) -> None:
    rules = of_type(aws, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rules
    assert not policy_check(aws, "no-open-ingress")
    for rule in rules:
        assert "cidrIpv6" not in rule["inputs"]
    for group in of_type(aws, "aws:ec2/securityGroup:SecurityGroup"):
        assert not group["inputs"].get("ingress"), group["name"]
    nfs = resource(aws, "cluster-efs-nfs-from-vpc")["inputs"]
    assert nfs["fromPort"] == nfs["toPort"] == 2049
    assert nfs["cidrIpv4"] == resource(aws, "cluster-network-vpc")["inputs"]["cidrBlock"]


# --- identity ---------------------------------------------------------------------------------


def test_every_s3_permission_names_bucket_arns(aws: dict[str, Any]) -> None:
    buckets = {r["inputs"]["bucket"] for r in of_type(aws, "aws:s3/bucket:Bucket")}
    checked = 0
    for role_policy in of_type(aws, "aws:iam/rolePolicy:RolePolicy"):
        for statement in policy(role_policy)["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            if not any(action.startswith("s3:") for action in actions):
                continue
            checked += 1
            assert "s3:*" not in actions, role_policy["name"]
            resources = statement["Resource"]
            assert isinstance(resources, list) and resources, role_policy["name"]
            for arn in resources:
                assert arn != "*", role_policy["name"]
                name = arn.removeprefix("arn:aws:s3:::").split("/")[0]
                assert name in buckets, (role_policy["name"], arn)
    assert checked == 6  # list + objects, for each of mldm, mlde and kserve


def test_workload_roles_reach_exactly_their_buckets(aws: dict[str, Any]) -> None:
    def grants(workload: str) -> tuple[set[str], set[str]]:
        statements = policy(resource(aws, f"cluster-identities-{workload}-policy"))["Statement"]
        objects = next(s for s in statements if s["Sid"] in ("WriteObjects", "ReadObjects"))
        buckets = {
            arn.removeprefix("arn:aws:s3:::").removesuffix("/*") for arn in objects["Resource"]
        }
        return buckets, set(objects["Action"])

    assert grants("mldm")[0] == {"pdk-aws-mldm", "pdk-aws-mlde-checkpoints", "pdk-aws-models"}
    assert grants("mlde")[0] == {"pdk-aws-mlde-checkpoints"}
    kserve_buckets, kserve_actions = grants("kserve")
    assert kserve_buckets == {"pdk-aws-models"}
    assert kserve_actions == {"s3:GetObject"}  # read-only
    assert "s3:PutObject" in grants("mlde")[1]


def test_each_role_trusts_exactly_its_service_accounts(aws: dict[str, Any]) -> None:
    issuer = "oidc.eks.us-east-2.amazonaws.com/id/pdk-aws-eks-mock"
    for workload, accounts in WORKLOAD_SERVICE_ACCOUNTS.items():
        trust = policy(resource(aws, f"cluster-identities-{workload}"), "assumeRolePolicy")
        (statement,) = trust["Statement"]
        assert (
            statement["Principal"]["Federated"] == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"
        )
        subjects = statement["Condition"]["StringEquals"][f"{issuer}:sub"]
        subjects = subjects if isinstance(subjects, list) else [subjects]
        assert subjects == [f"system:serviceaccount:{a.namespace}:{a.name}" for a in accounts]
        assert statement["Condition"]["StringEquals"][f"{issuer}:aud"] == "sts.amazonaws.com"


def test_role_arns_reach_the_platforms_service_accounts(aws: dict[str, Any]) -> None:
    def arn(workload: str) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role/pdk-aws-{workload}"

    values = releases(aws)["mldm-release"]["values"]
    annotation = "eks.amazonaws.com/role-arn"
    assert values["pachd"]["serviceAccount"]["additionalAnnotations"][annotation] == arn("mldm")
    assert values["pachd"]["worker"]["serviceAccount"]["additionalAnnotations"][annotation] == arn(
        "mldm"
    )
    for ns in ("default", "gpu-pool"):
        account = resource(aws, f"mldm-tasks-{ns}")["inputs"]
        assert account["metadata"]["annotations"][annotation] == arn("mlde")
    models = resource(aws, "wiring-models-sa")["inputs"]
    assert models["metadata"]["annotations"][annotation] == arn("kserve")
    assert values["pachd"]["storage"]["storageURL"] == "s3://pdk-aws-mldm?region=us-east-2"
    assert values["determined"]["checkpointStorage"]["bucket"] == "pdk-aws-mlde-checkpoints"


def test_add_ons_run_with_their_own_roles(aws: dict[str, Any]) -> None:
    addons = {r["inputs"]["addonName"]: r["inputs"] for r in of_type(aws, "aws:eks/addon:Addon")}
    assert set(addons) == {
        "vpc-cni",
        "kube-proxy",
        "coredns",
        "aws-ebs-csi-driver",
        "aws-efs-csi-driver",
    }
    for name in ("vpc-cni", "aws-ebs-csi-driver", "aws-efs-csi-driver"):
        assert addons[name]["serviceAccountRoleArn"].endswith(f"role/pdk-aws-{name}")
    # The node role keeps only joining and pulling; network permissions live on the CNI role.
    node_policies = {
        r["inputs"]["policyArn"].rsplit("/", 1)[-1]
        for r in of_type(aws, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r["parent"] == "cluster-nodes"
    }
    assert node_policies == {"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"}
    # Storage add-ons need nodes; networking add-ons go first.
    assert "cluster-nodes-cpu" in depends_on(aws, "cluster-addons-coredns")
    assert "cluster-addons-network-vpc-cni" in depends_on(aws, "cluster-nodes-cpu")


# --- nodes and autoscaling ---------------------------------------------------------------------


def test_gpu_group_matches_what_the_gpu_pool_tolerates(aws: dict[str, Any]) -> None:
    group = resource(aws, "cluster-nodes-gpu")["inputs"]
    assert group["amiType"] == "AL2023_x86_64_NVIDIA"
    ((label_key, label_value),) = group["labels"].items()
    (taint,) = group["taints"]
    effect = {"NO_SCHEDULE": "NoSchedule"}[taint["effect"]]

    # MLDE's GPU pod spec selects the group's label and tolerates its taint.
    assert not policy_check(aws, "gpu-taint-matches-mlde")

    template = "k8s.io/cluster-autoscaler/node-template"
    asg_tags = {
        r["inputs"]["tag"]["key"]: r["inputs"]["tag"]
        for r in of_type(aws, "aws:autoscaling/tag:Tag")
        if r["parent"] == "cluster-nodes-gpu"
    }
    assert asg_tags[f"{template}/label/{label_key}"]["value"] == label_value
    assert asg_tags[f"{template}/taint/{taint['key']}"]["value"] == f"{taint['value']}:{effect}"
    assert asg_tags[f"{template}/resources/nvidia.com/gpu"]["value"] == "1"
    assert asg_tags["k8s.io/cluster-autoscaler/enabled"]["value"] == "true"
    assert asg_tags["k8s.io/cluster-autoscaler/pdk-aws-eks"]["value"] == "owned"
    assert all(tag["propagateAtLaunch"] is False for tag in asg_tags.values())
    for r in of_type(aws, "aws:autoscaling/tag:Tag"):
        assert r["inputs"]["autoscalingGroupName"].startswith("eks-pdk-aws-")
    # The device plugin lands on the same nodes.
    plugin = resource(aws, "gpu-device-plugin")["inputs"]["spec"]["template"]["spec"]
    assert plugin["nodeSelector"] == {label_key: label_value}


def test_gpu_group_scales_to_zero_and_the_autoscaler_owns_the_count(aws: dict[str, Any]) -> None:
    gpu = resource(aws, "cluster-nodes-gpu")["inputs"]["scalingConfig"]
    assert gpu["minSize"] == 0 and gpu["desiredSize"] == 0 and gpu["maxSize"] >= 1
    cpu = resource(aws, "cluster-nodes-cpu")["inputs"]["scalingConfig"]
    assert cpu["minSize"] >= 1
    autoscaler = releases(aws)["cluster-autoscaler-release"]
    assert autoscaler["values"]["autoDiscovery"]["clusterName"] == "pdk-aws-eks"
    assert autoscaler["values"]["extraArgs"]["expander"] == "least-waste"
    assert autoscaler["values"]["image"]["tag"].startswith("v1.35.")
    account = autoscaler["values"]["rbac"]["serviceAccount"]
    assert account["annotations"]["eks.amazonaws.com/role-arn"].endswith(
        "role/pdk-aws-cluster-autoscaler"
    )
    scaling = policy(resource(aws, "cluster-autoscaler-role-policy"))["Statement"]
    scale = next(s for s in scaling if s["Sid"] == "ScaleOwnGroups")
    assert scale["Condition"]["StringEquals"] == {
        "aws:ResourceTag/k8s.io/cluster-autoscaler/pdk-aws-eks": "owned"
    }


def test_nodes_have_encrypted_gp3_disks_and_imdsv2(aws: dict[str, Any]) -> None:
    for role, size in (("cpu", 200), ("gpu", 200)):
        template = resource(aws, f"cluster-nodes-{role}-template")["inputs"]
        (device,) = template["blockDeviceMappings"]
        assert device["ebs"] == {
            "deleteOnTermination": "true",
            "encrypted": "true",
            "volumeSize": size,
            "volumeType": "gp3",
        }
        assert template["metadataOptions"]["httpTokens"] == "required"


def test_cpu_only_stack_has_no_gpu_group() -> None:
    snapshot = variant(gpuEnabled="false", mldeComputePool="default")
    groups = [r["name"] for r in of_type(snapshot, "aws:eks/nodeGroup:NodeGroup")]
    assert groups == ["cluster-nodes-cpu"]
    assert "gpu-device-plugin" not in {r["name"] for r in snapshot["resources"]}


# --- cluster ----------------------------------------------------------------------------------


def test_api_endpoint_is_limited_and_secrets_are_encrypted(aws: dict[str, Any]) -> None:
    cluster = resource(aws, "cluster-eks-cluster")["inputs"]
    assert cluster["version"] == "1.35"
    assert cluster["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    assert {"api", "audit", "authenticator"} <= set(cluster["enabledClusterLogTypes"])
    key = resource(aws, "cluster-eks-secrets-key")["inputs"]
    assert key["enableKeyRotation"] is True


def test_kubeconfig_authenticates_with_aws_eks_get_token(revealed: dict[str, Any]) -> None:
    kubeconfig = json.loads(revealed[STACK]["outputs"]["kubeconfig"])
    (user,) = kubeconfig["users"]
    exec_ = user["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"][:4] == ["eks", "get-token", "--cluster-name", "pdk-aws-eks"]
    assert "token" not in user["user"]
    (cluster,) = kubeconfig["clusters"]
    assert cluster["cluster"]["server"].startswith("https://")


def test_every_kubernetes_object_uses_the_new_clusters_provider(aws: dict[str, Any]) -> None:
    for r in aws["resources"]:
        if r["type"].startswith("kubernetes:"):
            assert r["provider"] == "cluster-eks-provider", r["name"]
        if r["type"].startswith("aws:"):
            assert r["provider"] == "cluster-aws", r["name"]
    provider = resource(aws, "cluster-aws")["inputs"]
    assert provider["region"] == "us-east-2"


# --- storage ----------------------------------------------------------------------------------


def test_buckets_are_private_encrypted_and_protected(aws: dict[str, Any]) -> None:
    buckets = of_type(aws, "aws:s3/bucket:Bucket")
    assert sorted(b["inputs"]["bucket"] for b in buckets) == [
        "pdk-aws-mlde-checkpoints",
        "pdk-aws-mldm",
        "pdk-aws-models",
    ]
    assert not policy_check(aws, "buckets-private")
    for bucket in buckets:
        assert bucket["protect"] is True
        assert bucket["inputs"]["forceDestroy"] is False
        (rule,) = resource(aws, f"{bucket['name']}-encryption")["inputs"]["rules"]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


def test_shared_filesystem_is_efs_in_every_private_subnet(aws: dict[str, Any]) -> None:
    fs = resource(aws, "cluster-efs-fs")
    assert fs["inputs"]["encrypted"] is True and fs["protect"] is True
    mounts = of_type(aws, "aws:efs/mountTarget:MountTarget")
    private = {
        r["name"] + "-id" for r in of_type(aws, "aws:ec2/subnet:Subnet") if "private" in r["name"]
    }
    assert {m["inputs"]["subnetId"] for m in mounts} == private
    volumes = [r for r in aws["resources"] if r["type"] == "kubernetes:core/v1:PersistentVolume"]
    assert len(volumes) == 2
    for volume in volumes:
        spec = volume["inputs"]["spec"]
        assert spec["csi"] == {"driver": "efs.csi.aws.com", "volumeHandle": "cluster-efs-fs-id"}
        assert spec["storageClassName"] == "efs-sc"
        assert spec["accessModes"] == ["ReadWriteMany"]
    claims = {
        r["inputs"]["metadata"]["namespace"]
        for r in aws["resources"]
        if r["type"] == "kubernetes:core/v1:PersistentVolumeClaim"
    }
    assert claims == {"default", "gpu-pool"}


def test_gp3_is_the_default_storage_class(aws: dict[str, Any]) -> None:
    gp3 = resource(aws, "cluster-gp3")["inputs"]
    assert gp3["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert gp3["provisioner"] == "ebs.csi.aws.com"
    volume = {k: v for k, v in gp3["parameters"].items() if not k.startswith("tagSpecification_")}
    assert volume == {"encrypted": "true", "fsType": "ext4", "type": "gp3"}


def test_registry_repositories_scan_and_expire(aws: dict[str, Any]) -> None:
    repositories = of_type(aws, "aws:ecr/repository:Repository")
    assert sorted(r["inputs"]["name"] for r in repositories) == [
        "pdk-aws-images/deploy",
        "pdk-aws-images/train",
    ]
    for repository in repositories:
        assert repository["inputs"]["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repository["inputs"]["imageTagMutability"] == "IMMUTABLE"
        rules = json.loads(resource(aws, f"{repository['name']}-lifecycle")["inputs"]["policy"])
        assert [rule["action"]["type"] for rule in rules["rules"]] == ["expire", "expire"]
    assert aws["outputs"]["registry"] == f"{ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com/pdk-aws-images"


# --- network ----------------------------------------------------------------------------------


def test_new_vpc_spans_three_zones_with_a_nat_per_zone(aws: dict[str, Any]) -> None:
    subnets = of_type(aws, "aws:ec2/subnet:Subnet")
    zones = {s["inputs"]["availabilityZone"] for s in subnets}
    assert zones == {"us-east-2a", "us-east-2b", "us-east-2c"}
    for subnet in subnets:
        tags = subnet["inputs"]["tags"]
        role = (
            "kubernetes.io/role/elb"
            if "public" in subnet["name"]
            else "kubernetes.io/role/internal-elb"
        )
        assert tags[role] == "1"
        assert tags["kubernetes.io/cluster/pdk-aws-eks"] == "shared"
    assert len(of_type(aws, "aws:ec2/natGateway:NatGateway")) == 3
    endpoint = resource(aws, "cluster-network-s3-endpoint")["inputs"]
    assert endpoint["serviceName"] == "com.amazonaws.us-east-2.s3"
    assert len(endpoint["routeTableIds"]) == 3


def test_subnet_ranges_do_not_overlap() -> None:
    import ipaddress

    private, public = subnet_ranges("10.0.0.0/16", 6)
    networks = [ipaddress.ip_network(n) for n in private + public]
    assert len(networks) == 12
    for index, network in enumerate(networks):
        assert network.subnet_of(ipaddress.ip_network("10.0.0.0/16"))
        assert not any(network.overlaps(other) for other in networks[index + 1 :])
    assert private[0] == "10.0.0.0/19" and public[0] == "10.0.224.0/22"


def test_single_nat_gateway_serves_every_zone() -> None:
    snapshot = variant(awsNatGateways="single")
    (nat,) = of_type(snapshot, "aws:ec2/natGateway:NatGateway")
    for table in of_type(snapshot, "aws:ec2/routeTable:RouteTable"):
        if "private" in table["name"]:
            assert table["inputs"]["routes"][0]["natGatewayId"] == nat["name"] + "-id"


def test_existing_vpc_is_adopted_and_its_subnets_tagged() -> None:
    private = "subnet-0123456789abcdef0,subnet-0123456789abcdef1"
    public = "subnet-0123456789abcdef2"
    snapshot = variant(
        awsExistingVpcId="vpc-0123456789abcdef0",
        awsPrivateSubnetIds=private,
        awsPublicSubnetIds=public,
    )
    assert not of_type(snapshot, "aws:ec2/vpc:Vpc")
    assert not of_type(snapshot, "aws:ec2/subnet:Subnet")
    tags = {
        (t["inputs"]["resourceId"], t["inputs"]["key"])
        for t in of_type(snapshot, "aws:ec2/tag:Tag")
    }
    assert ("subnet-0123456789abcdef2", "kubernetes.io/role/elb") in tags
    assert ("subnet-0123456789abcdef0", "kubernetes.io/role/internal-elb") in tags
    cluster = resource(snapshot, "cluster-eks-cluster")["inputs"]
    assert cluster["vpcConfig"]["subnetIds"] == private.split(",")
    # NFS is admitted from the adopted VPC's range, read from AWS.
    assert resource(snapshot, "cluster-efs-nfs-from-vpc")["inputs"]["cidrIpv4"] == "10.0.0.0/16"


# --- tags and protection ------------------------------------------------------------------------


def _takes_tags(token: str) -> bool:
    """Whether the pulumi-aws resource class of ``token`` accepts ``tags``."""
    _package, module_path, name = token.split(":")
    module = importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}")
    cls = getattr(module, name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def test_every_taggable_resource_carries_the_tag_set(aws: dict[str, Any]) -> None:
    config = load_config(STACK, *read_stack(STACK))
    expected = Naming.for_stack(STACK, config).tags
    taggable = 0
    assert not policy_check(aws, "labels-and-tags")
    for r in aws["resources"]:
        if not r["type"].startswith("aws:"):
            continue
        if _takes_tags(r["type"]):
            taggable += 1
            tags = r["inputs"].get("tags", {})
            assert expected.items() <= tags.items(), r["name"]
    assert taggable >= 40


def test_ephemeral_stack_can_be_destroyed_completely() -> None:
    snapshot = variant(ephemeral="true")
    assert not [r["name"] for r in snapshot["resources"] if r["protect"]]
    (db,) = of_type(snapshot, "aws:rds/instance:Instance")
    assert db["inputs"]["deletionProtection"] is False
    assert db["inputs"]["skipFinalSnapshot"] is True
    for bucket in of_type(snapshot, "aws:s3/bucket:Bucket"):
        assert bucket["inputs"]["forceDestroy"] is True
    for repository in of_type(snapshot, "aws:ecr/repository:Repository"):
        assert repository["inputs"]["forceDelete"] is True


def test_stateful_resources_are_protected(aws: dict[str, Any]) -> None:
    protected = {r["name"] for r in aws["resources"] if r["protect"]}
    for name in (
        "cluster-eks-cluster",
        "cluster-eks-secrets-key",
        "cluster-postgres-instance",
        "cluster-efs-fs",
        "cluster-buckets-mldm",
        "cluster-buckets-mlde-checkpoints",
        "cluster-buckets-models",
    ):
        assert name in protected, name


def test_kubernetes_side_waits_for_the_aws_side(aws: dict[str, Any]) -> None:
    """Children do not inherit a component's dependencies, so each object names its own."""
    for volume in ("cluster-efs-volumes-volume-default", "cluster-efs-volumes-volume-gpu-pool"):
        needs = depends_on(aws, volume)
        assert {"cluster-efs-mount-0", "cluster-efs-class"} <= needs, volume
    assert "cluster-addons-aws-ebs-csi-driver" in depends_on(aws, "cluster-gp3")
    assert "cluster-addons-coredns" in depends_on(aws, "cluster-autoscaler-release")
    platform = depends_on(aws, "mldm-release")
    assert {"cluster-postgres-databases", "cluster-gp3", "cluster-autoscaler-release"} <= platform


def test_sizing_keys_reach_their_resources() -> None:
    snapshot = variant(
        awsGpuCapacityType="SPOT",
        awsGpuInstanceType="g5.12xlarge",
        awsCpuInstanceType="m6i.4xlarge",
        awsCpuDiskSize=300,
        awsDbInstanceClass="db.r6g.large",
        awsDbStorageSize=250,
        awsDbMultiAz="true",
        awsDbEngineVersion="17",
        awsEcrKeepImages=5,
        awsClusterAutoscalerChartVersion="9.50.1",
        awsRegion="eu-west-1",
    )
    gpu = resource(snapshot, "cluster-nodes-gpu")["inputs"]
    assert gpu["capacityType"] == "SPOT" and gpu["instanceTypes"] == ["g5.12xlarge"]
    gpu_tags = {
        r["inputs"]["tag"]["key"]: r["inputs"]["tag"]["value"]
        for r in of_type(snapshot, "aws:autoscaling/tag:Tag")
        if r["parent"] == "cluster-nodes-gpu"
    }
    assert gpu_tags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] == "4"
    assert resource(snapshot, "cluster-nodes-cpu")["inputs"]["instanceTypes"] == ["m6i.4xlarge"]
    (device,) = resource(snapshot, "cluster-nodes-cpu-template")["inputs"]["blockDeviceMappings"]
    assert device["ebs"]["volumeSize"] == 300
    (db,) = of_type(snapshot, "aws:rds/instance:Instance")
    assert (db["inputs"]["instanceClass"], db["inputs"]["allocatedStorage"]) == (
        "db.r6g.large",
        250,
    )
    assert db["inputs"]["multiAz"] is True and db["inputs"]["engineVersion"] == "17"
    rules = json.loads(resource(snapshot, "cluster-registry-train-lifecycle")["inputs"]["policy"])
    assert rules["rules"][1]["selection"]["countNumber"] == 5
    assert releases(snapshot)["cluster-autoscaler-release"]["version"] == "9.50.1"
    zones = {s["inputs"]["availabilityZone"] for s in of_type(snapshot, "aws:ec2/subnet:Subnet")}
    assert zones == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    assert resource(snapshot, "cluster-aws")["inputs"]["region"] == "eu-west-1"
