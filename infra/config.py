"""The stack configuration: declared once, read once, validated before anything is registered.

Every key a stack can set is a field below. Fields live in small groups (``gpu``, ``postgres``,
...) so components receive one typed object each, but Pulumi only declares flat keys of simple
types in ``Pulumi.yaml`` (string, integer, boolean, array), so the key a user sets is the group
name and the field name joined in camelCase: ``postgres.storage_size`` is ``postgresStorageSize``
(``pulumi config set postgresStorageSize 50Gi``). Top-level fields keep their own name.

``Pulumi.yaml``'s ``config:`` block is generated from these models (``pdk schema --write``) and a
test fails when it is stale, so each default and description exists in exactly one place.

``load_config`` turns the raw key/value pairs of a stack into a ``StackConfig``, or raises
``ConfigError`` listing every problem at once; each problem names the key, the bad value, what is
allowed and how to fix it.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from pdk_assets.manifest import EXAMPLES_DIR, MANIFEST_FILE

PROJECT = "pdk-deployer"
"""The Pulumi project name, and so the namespace of every config key (``pdk-deployer:target``)."""

SUPPORTED_KUBERNETES_VERSIONS = ("1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35")
"""Kubernetes minor versions the project's manifests are validated against (tests use the
upstream OpenAPI schema of each); older clusters lack APIs the platform relies on."""

OFFLINE_SECRET = "[secret: not decrypted offline]"
"""Stands in for a ``secure:`` config value when a stack file is read without Pulumi's
decryption (``pdk plan``); checks that need the plaintext skip such values."""

Target = Literal["existing", "aws"]


def _fail(reason: str, allowed: str, fix: str) -> PydanticCustomError:
    return PydanticCustomError(
        "pdk", "{reason}", {"reason": reason, "allowed": allowed, "fix": fix}
    )


_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_IMAGE = re.compile(
    # A port may only follow the first component, and only when a path follows it: in
    # "team/app:1" the ":1" is a tag, in "localhost:5000/app:1" the ":5000" is a port.
    r"^(?P<repo>[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+(?=/))?(/[a-z0-9]+([._-][a-z0-9]+)*)*)"
    r"(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_REGISTRY = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_CHART_VERSION = re.compile(
    r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)
_DOMAIN = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$")

PRIVATE_NETWORKS = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
"""The RFC 1918 ranges: the default for who may reach exposed services, so a fresh stack is
reachable from the site's network but not from the internet until someone decides it should be."""


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value) or float(re.sub(r"[A-Za-z]+$", "", value)) <= 0:
        raise _fail(
            "is not a Kubernetes storage quantity",
            "a positive number with a binary suffix, e.g. 20Gi, 500Mi, 1Ti",
            "write the size with a unit such as Gi",
        )
    return value


def _dns_label(value: str) -> str:
    if value and (not _DNS_LABEL.match(value) or len(value) > 20):
        raise _fail(
            "is not a short DNS label",
            "1-20 lowercase letters, digits and '-', starting and ending alphanumeric",
            "choose an id such as 'ci-1234' (it ends up in bucket and label values)",
        )
    return value


def _node_label(value: str) -> str:
    key, sep, label_value = value.partition("=")
    if not sep or not _LABEL_NAME.match(key) or not _LABEL_VALUE.match(label_value):
        raise _fail(
            "is not a node label",
            "KEY=VALUE with a valid Kubernetes label key and value, e.g. nodegroup-role=gpu-worker",
            "write the label as KEY=VALUE",
        )
    return value


def _taint(value: str) -> str:
    match = re.match(r"^(?P<key>[^=:]+)(=(?P<value>[^:]*))?:(?P<effect>.+)$", value)
    if (
        not match
        or not _LABEL_NAME.match(match["key"])
        or not _LABEL_VALUE.match(match["value"] or "")
        or match["effect"] not in _TAINT_EFFECTS
    ):
        raise _fail(
            "is not a node taint",
            f"KEY=VALUE:EFFECT with EFFECT one of {', '.join(_TAINT_EFFECTS)}, "
            "e.g. nvidia.com/gpu=present:NoSchedule",
            "write the taint as KEY=VALUE:EFFECT",
        )
    return value


def _pinned_image(value: str) -> str:
    match = _IMAGE.match(value)
    if not match:
        raise _fail(
            "is not a container image reference",
            "REGISTRY/REPOSITORY:TAG or ...@sha256:DIGEST",
            "copy the reference from the image's registry page",
        )
    if not match["digest"] and match["tag"] in (None, "latest"):
        raise _fail(
            "is not pinned",
            "an explicit version tag (not 'latest') or a sha256 digest",
            f"pin it, e.g. {match['repo']}:<version>",
        )
    return value


def _kubernetes_version(value: str) -> str:
    if value not in SUPPORTED_KUBERNETES_VERSIONS:
        raise _fail(
            "is not a supported Kubernetes version",
            ", ".join(SUPPORTED_KUBERNETES_VERSIONS),
            "set the MAJOR.MINOR version your cluster runs",
        )
    return value


def _registry(value: str) -> str:
    if value and not _REGISTRY.match(value):
        raise _fail(
            "is not an image registry prefix",
            "HOST[:PORT][/PATH] without scheme or tag, e.g. localhost:5001/pdk or docker.io/acme",
            "drop any 'https://' and trailing '/'",
        )
    return value


def _host(value: str) -> str:
    if value and not _HOST.match(value):
        raise _fail(
            "is not a host name or IP address",
            "a DNS name or an IPv4 address, e.g. nfs.example.internal or 10.0.0.5",
            "give the address only, without scheme or path",
        )
    return value


def _absolute_path(value: str) -> str:
    if not value.startswith("/"):
        raise _fail("is not an absolute path", "a path starting with '/'", "write the full path")
    return value


def _chart_version(value: str) -> str:
    if not _CHART_VERSION.match(value):
        raise _fail(
            "is not a version",
            "an exact semantic version such as 1.17.2 or v1.17.2 (no ranges, no 'latest')",
            "copy the version from the chart's or project's release page",
        )
    return value


def _source_ranges(value: str) -> str:
    ranges = [part.strip() for part in value.split(",")]
    for cidr in ranges:
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise _fail(
                f"contains {cidr!r}, which is not a network in CIDR notation",
                "comma-separated CIDRs with host bits zero, e.g. 10.0.0.0/8,203.0.113.7/32",
                "write each range as ADDRESS/PREFIX",
            ) from None
    return ",".join(ranges)


def _domain(value: str) -> str:
    if not _DOMAIN.match(value):
        raise _fail(
            "is not a DNS domain",
            "lowercase DNS labels joined by dots, e.g. example.com or models.pdk.internal",
            "give the domain only, without scheme or port",
        )
    return value


def _slot_count(value: int) -> int:
    if not 1 <= value <= 16:
        raise _fail(
            "is not a GPU count per pod",
            "1 to 16, at most the GPUs of one GPU node",
            "set it to the GPU count of your GPU nodes",
        )
    return value


_AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
_INSTANCE_TYPE = re.compile(r"^(?P<family>[a-z][a-z0-9-]*)\.(?P<size>[a-z0-9-]+)$")
_AWS_ID = {
    "vpc": re.compile(r"^vpc-[0-9a-f]{8,17}$"),
    "subnet": re.compile(r"^subnet-[0-9a-f]{8,17}$"),
}

GPU_INSTANCE_GPUS: dict[str, dict[str, int]] = {
    "g4dn": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 4,
        "metal": 8,
    },
    "g5": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 4,
        "24xlarge": 4,
        "48xlarge": 8,
    },
    "g6": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 4,
        "24xlarge": 4,
        "48xlarge": 8,
    },
    "g6e": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 2,
        "24xlarge": 4,
        "48xlarge": 8,
    },
    "p3": {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8},
    "p3dn": {"24xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p4de": {"24xlarge": 8},
    "p5": {"48xlarge": 8},
    "p5e": {"48xlarge": 8},
    "p5en": {"48xlarge": 8},
}
"""NVIDIA GPUs per x86_64 EC2 instance type that EKS's AL2023 NVIDIA AMI supports, by family
and size. Other families (g4ad has AMD GPUs, g5g is Arm, inf/trn are not GPUs) cannot run the
GPU node group."""


def _aws_region(value: str) -> str:
    if not _AWS_REGION.match(value):
        raise _fail(
            "is not an AWS region",
            "a region code such as us-east-2 or eu-west-1",
            "copy the region code from the AWS console",
        )
    return value


def _instance_type(value: str) -> str:
    if not _INSTANCE_TYPE.match(value):
        raise _fail(
            "is not an EC2 instance type",
            "FAMILY.SIZE, e.g. m5.2xlarge or g4dn.xlarge",
            "copy the instance type from the EC2 instance types page",
        )
    return value


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise _fail(
            "is not a network in CIDR notation",
            "ADDRESS/PREFIX with host bits zero, e.g. 10.0.0.0/16",
            "write the range as ADDRESS/PREFIX",
        ) from None
    if network.version != 4 or not 16 <= network.prefixlen <= 20:
        raise _fail(
            "is not an IPv4 range of size /16 to /20",
            "an IPv4 CIDR from /16 to /20 (three private /19-/23 subnets and three public ones "
            "are carved from it)",
            "use a /16 such as 10.0.0.0/16",
        )
    return value


def split_list(value: str) -> list[str]:
    """A comma-separated config value as its non-empty, stripped items."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _id_list(kind: str) -> Any:
    def check(value: str) -> str:
        items = split_list(value)
        bad = [item for item in items if not _AWS_ID[kind].match(item)]
        if bad:
            raise _fail(
                f"contains {bad[0]!r}, which is not a {kind} id",
                f"comma-separated ids such as {kind}-0123456789abcdef0",
                f"copy the {kind} ids from the VPC console",
            )
        return ",".join(items)

    return check


def _aws_id(kind: str) -> Any:
    def check(value: str) -> str:
        if value and not _AWS_ID[kind].match(value):
            raise _fail(
                f"is not a {kind} id",
                f"{kind}-<hex>, e.g. {kind}-0123456789abcdef0",
                f"copy the {kind} id from the VPC console",
            )
        return value

    return check


def _engine_version(value: str) -> str:
    if not re.match(r"^[0-9]+(\.[0-9]+)?$", value):
        raise _fail(
            "is not a Postgres engine version",
            "MAJOR or MAJOR.MINOR, e.g. 16 or 16.6",
            "give the major version; minor upgrades are applied by RDS",
        )
    return value


def _node_count(value: int) -> int:
    if not 0 <= value <= 100:
        raise _fail("is not a node count", "0 to 100", "set a count between 0 and 100")
    return value


def _disk_size(value: int) -> int:
    if not 20 <= value <= 16384:
        raise _fail("is not a disk size in GiB", "20 to 16384", "set the size in GiB")
    return value


def _keep_count(value: int) -> int:
    if not 1 <= value <= 1000:
        raise _fail("is not an image count", "1 to 1000", "set how many images to keep")
    return value


Quantity = Annotated[str, AfterValidator(_quantity)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
NodeLabel = Annotated[str, AfterValidator(_node_label)]
Taint = Annotated[str, AfterValidator(_taint)]
PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
KubernetesVersion = Annotated[str, AfterValidator(_kubernetes_version)]
RegistryPrefix = Annotated[str, AfterValidator(_registry)]
Host = Annotated[str, AfterValidator(_host)]
AbsolutePath = Annotated[str, AfterValidator(_absolute_path)]
ChartVersion = Annotated[str, AfterValidator(_chart_version)]
SourceRanges = Annotated[str, AfterValidator(_source_ranges)]
Domain = Annotated[str, AfterValidator(_domain)]
ServiceType = Literal["LoadBalancer", "NodePort"]
SlotCount = Annotated[int, AfterValidator(_slot_count)]
AwsRegion = Annotated[str, AfterValidator(_aws_region)]
InstanceType = Annotated[str, AfterValidator(_instance_type)]
VpcCidr = Annotated[str, AfterValidator(_cidr)]
VpcId = Annotated[str, AfterValidator(_aws_id("vpc"))]
SubnetIds = Annotated[str, AfterValidator(_id_list("subnet"))]
EngineVersion = Annotated[str, AfterValidator(_engine_version)]
NodeCount = Annotated[int, AfterValidator(_node_count)]
DiskSize = Annotated[int, AfterValidator(_disk_size)]
KeepCount = Annotated[int, AfterValidator(_keep_count)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def _only(*targets: str) -> dict[str, Any]:
    """Marks a field as meaningful on some targets only; setting it elsewhere is an error."""
    return {"targets": list(targets)}


class ClusterConfig(_Model):
    """How Pulumi reaches an existing Kubernetes cluster."""

    kubeconfig: str = Field(
        "",
        description="Kubeconfig YAML for the cluster; store it with --secret. "
        "Empty: the ambient kubeconfig ($KUBECONFIG or ~/.kube/config).",
        json_schema_extra=_only("existing"),
    )
    context: str = Field(
        "",
        description="Kubeconfig context to use. Empty: the kubeconfig's current context.",
        json_schema_extra=_only("existing"),
    )
    storage_class: str = Field(
        "",
        description="StorageClass for Postgres and MinIO volumes. Empty: the cluster's default "
        "StorageClass.",
        json_schema_extra=_only("existing"),
    )


class GpuConfig(_Model):
    """Where GPU work runs. The label and taint must match what the nodes carry."""

    enabled: bool = Field(
        True, description="Whether the cluster has GPU nodes. False makes a CPU-only stack."
    )
    node_label: NodeLabel = Field(
        "nodegroup-role=gpu-worker",
        description="Label (KEY=VALUE) carried by GPU nodes; GPU workloads select it.",
    )
    taint: Taint = Field(
        "nvidia.com/gpu=present:NoSchedule",
        description="Taint (KEY=VALUE:EFFECT) on GPU nodes; GPU workloads tolerate it.",
    )
    cpu_node_label: NodeLabel = Field(
        "nodegroup-role=cpu-worker", description="Label (KEY=VALUE) carried by CPU nodes."
    )
    device_plugin_chart_version: ChartVersion = Field(
        "0.17.4",
        description="Version of NVIDIA's nvidia-device-plugin Helm chart, installed on targets "
        "whose GPU nodes do not ship the plugin.",
    )


class SharedFsConfig(_Model):
    """The shared read-write-many filesystem bound as ``pdk-pvc`` (MLDE's shared_fs)."""

    type: Literal["nfs", "hostPath"] = Field(
        "hostPath",
        description="nfs: an existing NFS export. hostPath: a folder present on every node "
        "(single-node kind/minikube, or a folder the operator shares across nodes).",
        json_schema_extra=_only("existing"),
    )
    nfs_server: Host = Field(
        "",
        description="NFS server address; required when sharedFsType is nfs, unused otherwise.",
        json_schema_extra=_only("existing"),
    )
    path: AbsolutePath = Field(
        "/mnt/pdk-shared",
        description="The NFS export path (nfs) or the node folder (hostPath).",
        json_schema_extra=_only("existing"),
    )
    size: Quantity = Field(
        "100Gi", description="Capacity recorded on the shared volume and its claims."
    )


class PostgresConfig(_Model):
    """The in-cluster Postgres 13 that holds the pachyderm, dex and determined databases."""

    image: PinnedImage = Field(
        "docker.io/library/postgres:13.21",
        description="Postgres server image, pinned. Postgres 13 is what MLDM 2.8 and MLDE 0.28 "
        "were validated against.",
        json_schema_extra=_only("existing"),
    )
    storage_size: Quantity = Field(
        "20Gi", description="Size of the Postgres data volume.", json_schema_extra=_only("existing")
    )


class MinioConfig(_Model):
    """The in-cluster MinIO that provides S3 buckets on clusters without a cloud object store."""

    image: PinnedImage = Field(
        "quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z",
        description="MinIO server image, pinned (never minio:latest).",
        json_schema_extra=_only("existing"),
    )
    client_image: PinnedImage = Field(
        "quay.io/minio/mc:RELEASE.2025-04-03T17-07-56Z",
        description="MinIO client image used by the job that creates buckets and the workload "
        "user.",
        json_schema_extra=_only("existing"),
    )
    storage_size: Quantity = Field(
        "50Gi", description="Size of the MinIO data volume.", json_schema_extra=_only("existing")
    )


class ExposeConfig(_Model):
    """How the three user-facing endpoints (MLDM proxy, MLDE ingress, KServe gateway) are
    reached from outside the cluster."""

    service_type: ServiceType = Field(
        "LoadBalancer",
        description="LoadBalancer: one cloud or MetalLB address per endpoint. NodePort: a port "
        "on every node, for kind/minikube and clusters without a load balancer.",
    )
    source_ranges: SourceRanges = Field(
        PRIVATE_NETWORKS,
        description="Comma-separated CIDRs allowed through the load balancers. Default: the "
        "private (RFC 1918) ranges only; add your office or VPN range to open it wider.",
    )


class CertManagerConfig(_Model):
    """cert-manager, which issues the certificates of KServe's admission webhooks."""

    chart_version: ChartVersion = Field(
        "v1.20.0",
        description="Version of the jetstack/cert-manager Helm chart (1.20 supports "
        "Kubernetes 1.32-1.35).",
    )


class IstioConfig(_Model):
    """Istio: the ingress gateway and network layer of Knative (KServe Serverless mode)."""

    enabled: bool = Field(
        True,
        description="Install Istio. Required by kserveDeploymentMode Serverless; RawDeployment "
        "serves models through ingress-nginx instead.",
    )
    chart_version: ChartVersion = Field(
        "1.28.6",
        description="Version of Istio's base, istiod and gateway Helm charts (1.28 supports "
        "Kubernetes 1.30-1.34; net-istio 1.21 is tested with it).",
    )


class KnativeConfig(_Model):
    """Knative Serving with its Istio networking layer (KServe Serverless mode only)."""

    serving_version: ChartVersion = Field(
        "1.21.1",
        description="Knative Serving release whose official manifests are applied (Knative "
        "publishes no Helm chart for Serving). 1.21 needs Kubernetes 1.33 or newer; use 1.20.x "
        "on 1.32.",
    )
    net_istio_version: ChartVersion = Field(
        "1.21.3",
        description="Knative net-istio release (Knative's Istio networking layer); same minor "
        "as knativeServingVersion, patch releases differ.",
    )


class KserveConfig(_Model):
    """KServe, which serves the models the flow deploys."""

    chart_version: ChartVersion = Field(
        "v0.17.1",
        description="Version of KServe's Helm charts (kserve-crd, and kserve-resources from "
        "0.17 on, kserve before). 0.17 supports Kubernetes 1.32-1.34.",
    )
    deployment_mode: Literal["Serverless", "RawDeployment"] = Field(
        "Serverless",
        description="Serverless: Knative revisions, scale to zero, traffic through Istio. "
        "RawDeployment: plain Deployments behind ingress-nginx, no Knative or Istio needed.",
    )
    domain: Domain = Field(
        "example.com",
        description="Domain of model URLs (<model>.<namespace>.<domain>); requests carry it in "
        "the Host header, so no DNS record is needed.",
    )
    models_web_app: bool = Field(
        False, description="Install the KServe models web app (a UI listing InferenceServices)."
    )
    models_web_app_image: PinnedImage = Field(
        "ghcr.io/kserve/models-web-app:0.16.1",
        description="Image of the KServe models web app, pinned.",
    )


class IngressConfig(_Model):
    """ingress-nginx, which fronts the MLDE master (and models in RawDeployment mode)."""

    chart_version: ChartVersion = Field(
        "4.14.3",
        description="Version of the ingress-nginx Helm chart. 4.14.3 is the last release: the "
        "project was retired in March 2026 and gets no further fixes.",
    )


class MldmConfig(_Model):
    """MLDM (Pachyderm), installed with the pachyderm Helm chart."""

    chart_version: ChartVersion = Field(
        "2.8.4",
        description="Version of the pachyderm/pachyderm Helm chart (which also installs MLDE "
        "through its determined: block).",
    )


class MldeConfig(_Model):
    """MLDE (Determined), installed through the Pachyderm chart's determined: block."""

    version: ChartVersion = Field(
        "0.28.1", description="Determined version the master and agents run (detVersion)."
    )
    cpu_image: PinnedImage = Field(
        "determinedai/environments:py-3.8-pytorch-1.12-tf-2.11-cpu-6eceaca",
        description="Default image of CPU tasks, pinned (the one the PDK guides ran with MLDE "
        "0.28).",
    )
    gpu_image: PinnedImage = Field(
        "determinedai/environments:cuda-11.3-pytorch-1.12-tf-2.11-gpu-6eceaca",
        description="Default image of GPU tasks, pinned (the one the PDK guides ran with MLDE "
        "0.28).",
    )
    max_slots_per_pod: SlotCount = Field(
        1,
        description="GPUs one task pod may request: at most the GPUs of one GPU node.",
    )
    compute_pool: Literal["", "default", "gpu-pool"] = Field(
        "",
        description="Resource pool that runs experiments. Empty: gpu-pool when gpuEnabled, "
        "else default. gpu-pool needs gpuEnabled.",
    )


class FlowConfig(_Model):
    """The PDK flow in the stack: images built from source, MLDM project/repo/pipelines and the
    MLDE workspace/project of one example."""

    enabled: bool = Field(
        False,
        description="Declare the flow. Its MLDM and MLDE objects are created through the "
        "platform's own APIs during pulumi up, so the machine running Pulumi must reach MLDM "
        "and MLDE (see flowMldmAddress). Off by default: a stack opts in once it knows how.",
    )
    example: str = Field(
        "dog-cat", description="The example under examples/ whose flow the stack deploys."
    )
    mldm_address: str = Field(
        "",
        description="HOST:PORT where the machine running Pulumi reaches MLDM (pachd through the "
        "MLDM proxy). Empty: the mldm-proxy load balancer's address. Required with "
        "exposeServiceType NodePort, e.g. localhost:30080 behind a port-forward.",
    )
    mlde_url: str = Field(
        "",
        description="URL where the machine running Pulumi reaches the MLDE master. Empty: "
        "http:// and the mlde-ingress load balancer's address. Required with exposeServiceType "
        "NodePort.",
    )


class AwsConfig(_Model):
    """The AWS target: a VPC, EKS with CPU and GPU node groups, S3, RDS, EFS and ECR."""

    @property
    def zones(self) -> list[str]:
        """``availability_zones``, or the region's a, b and c when it is empty."""
        return split_list(self.availability_zones) or [f"{self.region}{c}" for c in "abc"]

    region: AwsRegion = Field(
        "us-east-2", description="AWS region of every resource.", json_schema_extra=_only("aws")
    )
    availability_zones: str = Field(
        "",
        description="Comma-separated availability zones of a new VPC (2 to 6, all in awsRegion). "
        "Empty: the region's a, b and c zones.",
        json_schema_extra=_only("aws"),
    )
    vpc_cidr: VpcCidr = Field(
        "10.0.0.0/16",
        description="IPv4 range of a new VPC (/16 to /20). Pods take VPC addresses (VPC CNI), "
        "so prefer a /16.",
        json_schema_extra=_only("aws"),
    )
    nat_gateways: Literal["perAz", "single"] = Field(
        "perAz",
        description="perAz: one NAT gateway per zone, so losing a zone keeps the others online. "
        "single: one NAT gateway for the VPC, cheaper, but a zone outage cuts every node's "
        "egress.",
        json_schema_extra=_only("aws"),
    )
    existing_vpc_id: VpcId = Field(
        "",
        description="Deploy into this VPC instead of creating one; needs awsPrivateSubnetIds "
        "and awsPublicSubnetIds.",
        json_schema_extra=_only("aws"),
    )
    private_subnet_ids: SubnetIds = Field(
        "",
        description="Comma-separated private subnets of awsExistingVpcId (at least 2, in "
        "different zones, with a route to a NAT gateway): nodes, RDS and EFS go here.",
        json_schema_extra=_only("aws"),
    )
    public_subnet_ids: SubnetIds = Field(
        "",
        description="Comma-separated public subnets of awsExistingVpcId: load balancers go here. "
        "They are tagged for load balancer discovery.",
        json_schema_extra=_only("aws"),
    )
    api_access_cidrs: str = Field(
        "",
        description="Comma-separated CIDRs allowed to reach the EKS API endpoint from outside "
        "the VPC (your address or VPN range; pulumi up runs from there). Required on aws; "
        "0.0.0.0/0 is accepted only when written out.",
        json_schema_extra=_only("aws"),
    )
    cpu_instance_type: InstanceType = Field(
        "m5.2xlarge",
        description="Instance type of the CPU node group.",
        json_schema_extra=_only("aws"),
    )
    cpu_min_size: NodeCount = Field(
        1,
        description="Fewest CPU nodes; at least 1, since the platform's services run there.",
        json_schema_extra=_only("aws"),
    )
    cpu_desired_size: NodeCount = Field(
        2,
        description="CPU nodes at creation; the cluster-autoscaler owns the count afterwards.",
        json_schema_extra=_only("aws"),
    )
    cpu_max_size: NodeCount = Field(
        4, description="Most CPU nodes the autoscaler may run.", json_schema_extra=_only("aws")
    )
    cpu_disk_size: DiskSize = Field(
        200,
        description="Root volume of each CPU node in GiB (gp3, encrypted); holds images and "
        "MLDM's local cache.",
        json_schema_extra=_only("aws"),
    )
    gpu_instance_type: InstanceType = Field(
        "g4dn.xlarge",
        description="Instance type of the GPU node group: an NVIDIA x86_64 type (g4dn, g5, g6, "
        "g6e, p3, p4d, p5 families).",
        json_schema_extra=_only("aws"),
    )
    gpu_min_size: NodeCount = Field(
        0,
        description="Fewest GPU nodes; 0 lets the group scale to zero when no task needs a GPU.",
        json_schema_extra=_only("aws"),
    )
    gpu_desired_size: NodeCount = Field(
        0,
        description="GPU nodes at creation; the cluster-autoscaler owns the count afterwards.",
        json_schema_extra=_only("aws"),
    )
    gpu_max_size: NodeCount = Field(
        2, description="Most GPU nodes the autoscaler may run.", json_schema_extra=_only("aws")
    )
    gpu_disk_size: DiskSize = Field(
        200,
        description="Root volume of each GPU node in GiB (gp3, encrypted); GPU task images are "
        "large.",
        json_schema_extra=_only("aws"),
    )
    gpu_capacity_type: Literal["ON_DEMAND", "SPOT"] = Field(
        "ON_DEMAND",
        description="ON_DEMAND, or SPOT: cheaper, but a node can be reclaimed mid-trial (MLDE "
        "resumes from the last checkpoint).",
        json_schema_extra=_only("aws"),
    )
    db_instance_class: str = Field(
        "db.m6g.large",
        description="RDS instance class of the Postgres server.",
        json_schema_extra=_only("aws"),
    )
    db_engine_version: EngineVersion = Field(
        "16",
        description="RDS PostgreSQL major version (minor upgrades are automatic). 13, which the "
        "PDK guides used, left RDS standard support in February 2026.",
        json_schema_extra=_only("aws"),
    )
    db_storage_size: DiskSize = Field(
        100, description="RDS storage in GiB (gp3, encrypted).", json_schema_extra=_only("aws")
    )
    db_multi_az: bool = Field(
        False,
        description="Run a standby in a second zone: survives a zone outage, costs twice as much.",
        json_schema_extra=_only("aws"),
    )
    cluster_autoscaler_chart_version: ChartVersion = Field(
        "9.51.0",
        description="Version of the kubernetes/autoscaler cluster-autoscaler Helm chart.",
        json_schema_extra=_only("aws"),
    )
    cluster_autoscaler_image: PinnedImage = Field(
        "registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.3",
        description="cluster-autoscaler image; its MAJOR.MINOR must equal kubernetesVersion.",
        json_schema_extra=_only("aws"),
    )
    ecr_keep_images: KeepCount = Field(
        30,
        description="Tagged images each ECR repository keeps; older ones expire. Untagged "
        "images expire after a day.",
        json_schema_extra=_only("aws"),
    )


class StackConfig(_Model):
    """Everything one stack can set. See the module docstring for how keys are named."""

    target: Target = Field(
        description="Where the platform runs. existing: a Kubernetes cluster you already have "
        "(on-prem, kind, minikube). aws: a new EKS cluster with its VPC, S3, RDS, EFS and ECR."
    )
    ephemeral: bool = Field(
        False,
        description="Throwaway stack (CI, demos): stateful resources are not protected and are "
        "deleted with the stack. Keep false for anything holding real data.",
    )
    deployment_id: DnsLabel = Field(
        "",
        description="Short id placed in resource names and the deployment-id label, so leftovers "
        "can be found. Empty: the stack name.",
    )
    kubernetes_version: KubernetesVersion = Field(
        "1.33",
        description="Kubernetes MAJOR.MINOR the cluster runs; manifests are validated against it.",
    )
    registry: RegistryPrefix = Field(
        "",
        description="Image registry prefix the flow's images are pushed to "
        "(e.g. localhost:5001/pdk). Empty: none; the flow's images cannot be built.",
        json_schema_extra=_only("existing"),
    )
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    gpu: GpuConfig = Field(default_factory=GpuConfig)
    shared_fs: SharedFsConfig = Field(default_factory=SharedFsConfig)
    postgres: PostgresConfig = Field(default_factory=PostgresConfig)
    minio: MinioConfig = Field(default_factory=MinioConfig)
    expose: ExposeConfig = Field(default_factory=ExposeConfig)
    cert_manager: CertManagerConfig = Field(default_factory=CertManagerConfig)
    istio: IstioConfig = Field(default_factory=IstioConfig)
    knative: KnativeConfig = Field(default_factory=KnativeConfig)
    kserve: KserveConfig = Field(default_factory=KserveConfig)
    ingress: IngressConfig = Field(default_factory=IngressConfig)
    mldm: MldmConfig = Field(default_factory=MldmConfig)
    mlde: MldeConfig = Field(default_factory=MldeConfig)
    aws: AwsConfig = Field(default_factory=AwsConfig)
    flow: FlowConfig = Field(default_factory=FlowConfig)


def split_label(value: str) -> tuple[str, str]:
    """``KEY=VALUE`` (already validated) as a pair."""
    key, _, label_value = value.partition("=")
    return key, label_value


def split_taint(value: str) -> tuple[str, str, str]:
    """``KEY=VALUE:EFFECT`` (already validated) as a triple."""
    head, _, effect = value.rpartition(":")
    key, _, taint_value = head.partition("=")
    return key, taint_value, effect


GROUP_PREFIX = {"cluster": "kube", "shared_fs": "sharedFs"}
"""Key prefixes that differ from the group's field name (``kubeconfig`` reads better than
``clusterKubeconfig``)."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True)
class KeySpec:
    """One flat config key and where it lands in ``StackConfig``."""

    key: str
    group: str | None
    field_name: str
    annotation: Any
    default: Any
    required: bool
    description: str
    targets: tuple[str, ...] | None
    secret: bool = False


def _key_name(group: str | None, field_name: str) -> str:
    if group is None:
        return _camel(field_name)
    if group == "cluster" and field_name == "kubeconfig":
        return "kubeconfig"
    prefix = GROUP_PREFIX.get(group, _camel(group))
    camel = _camel(field_name)
    return prefix + camel[0].upper() + camel[1:]


def _specs() -> dict[str, KeySpec]:
    specs: dict[str, KeySpec] = {}

    def add(group: str | None, model: type[BaseModel]) -> None:
        for name, info in model.model_fields.items():
            if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
                add(name, info.annotation)
                continue
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            targets = extra.get("targets")
            key = _key_name(group, name)
            specs[key] = KeySpec(
                key=key,
                group=group,
                field_name=name,
                annotation=info.annotation,
                default=None if info.is_required() else info.get_default(call_default_factory=True),
                required=info.is_required(),
                description=info.description or "",
                targets=tuple(str(t) for t in targets) if isinstance(targets, list) else None,
                secret=key == "kubeconfig",
            )

    add(None, StackConfig)
    return specs


KEYS: dict[str, KeySpec] = _specs()
"""Every flat key a stack may set, in declaration order."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a stack's config, phrased so the user can fix it."""

    key: str
    value: Any
    reason: str
    allowed: str = ""
    fix: str = ""

    def render(self) -> str:
        shown = "(not set)" if self.value is _MISSING else repr(self.value)
        text = f"{PROJECT}:{self.key} = {shown}: {self.reason}."
        if self.allowed:
            text += f" Allowed: {self.allowed}."
        if self.fix:
            text += f" Fix: {self.fix}."
        return text


_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "(not set)"})()


@dataclass
class ConfigError(Exception):
    """Raised once with every problem found in a stack's config."""

    stack: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        count = len(self.problems)
        lines = [f"Stack '{self.stack}' has {count} configuration problem{'s' * (count != 1)}:"]
        lines += [f"  - {problem.render()}" for problem in self.problems]
        return "\n".join(lines)


def _set_fix(stack: str, key: str, value: str = "VALUE") -> str:
    return f"pulumi config set {key} {value} --stack {stack}"


def _allowed_for(spec: KeySpec) -> str:
    annotation = spec.annotation
    if get_origin(annotation) is Literal:
        return ", ".join(str(a) for a in get_args(annotation))
    if annotation is bool:
        return "true, false"
    if annotation is int:
        return "a whole number"
    return ""


def _problem_from_pydantic(stack: str, error: Mapping[str, Any], raw: Mapping[str, Any]) -> Problem:
    loc = tuple(str(part) for part in error["loc"])
    spec = next(
        (s for s in KEYS.values() if (s.group, s.field_name) == (loc[0], loc[1]))
        if len(loc) > 1
        else (s for s in KEYS.values() if s.group is None and s.field_name == loc[0]),
        None,
    )
    key = spec.key if spec else ".".join(loc)
    value = raw.get(key, _MISSING)
    kind = error["type"]
    if kind == "pdk":
        ctx = error["ctx"]
        return Problem(key, value, ctx["reason"], ctx["allowed"], ctx["fix"])
    if kind == "missing":
        allowed = _allowed_for(spec) if spec else ""
        example = allowed.split(", ")[0] if allowed else "VALUE"
        return Problem(
            key, value, "is required and not set", allowed, _set_fix(stack, key, example)
        )
    if kind == "literal_error":
        allowed = _allowed_for(spec) if spec else ""
        return Problem(
            key,
            value,
            "is not one of the allowed values",
            allowed,
            _set_fix(stack, key, allowed.split(", ")[0]),
        )
    allowed = _allowed_for(spec) if spec else ""
    return Problem(
        key, value, f"has the wrong type ({error['msg']})", allowed, _set_fix(stack, key)
    )


def _off(raw_bool: Any) -> bool:
    """Whether a raw boolean (True/False from defaults, strings from Pulumi) reads as false,
    with the spellings pydantic accepts."""
    return str(raw_bool).lower() in ("false", "0", "off", "no", "f", "n")


def _check_combinations(
    stack: str, nested: Mapping[str, Any], raw: Mapping[str, Any]
) -> list[Problem]:
    """Rules that involve more than one key. They read the raw values (with declared defaults
    filled in), so they are reported together with single-key problems, not after a fix."""

    def value(group: str, name: str) -> Any:
        model = StackConfig.model_fields[group].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        return nested.get(group, {}).get(name, model.model_fields[name].get_default())

    problems: list[Problem] = []
    fs_type, nfs_server = value("shared_fs", "type"), value("shared_fs", "nfs_server")
    if fs_type == "nfs" and not nfs_server:
        problems.append(
            Problem(
                "sharedFsNfsServer",
                raw.get("sharedFsNfsServer", _MISSING),
                "is required when sharedFsType is nfs",
                "the NFS server's address",
                _set_fix(stack, "sharedFsNfsServer", "<address>"),
            )
        )
    if fs_type == "hostPath" and nfs_server:
        problems.append(
            Problem(
                "sharedFsNfsServer",
                nfs_server,
                "is set but sharedFsType is hostPath, so it would be ignored",
                "empty with hostPath",
                f"either set sharedFsType to nfs or run: pulumi config rm sharedFsNfsServer "
                f"--stack {stack}",
            )
        )
    gpu_off, istio_off = _off(value("gpu", "enabled")), _off(value("istio", "enabled"))
    mode = value("kserve", "deployment_mode")
    if mode == "Serverless" and istio_off:
        problems.append(
            Problem(
                "kserveDeploymentMode",
                mode,
                "is Serverless, which routes through Knative and Istio, but istioEnabled is false",
                "RawDeployment when Istio is off; Serverless needs istioEnabled true",
                _set_fix(stack, "kserveDeploymentMode", "RawDeployment")
                + f", or: pulumi config set istioEnabled true --stack {stack}",
            )
        )
    if value("mlde", "compute_pool") == "gpu-pool" and gpu_off:
        problems.append(
            Problem(
                "mldeComputePool",
                "gpu-pool",
                "is the GPU pool, but gpuEnabled is false (a CPU-only stack has no GPU pool)",
                "default, or empty, on a CPU-only stack",
                _set_fix(stack, "mldeComputePool", "default")
                + f", or: pulumi config set gpuEnabled true --stack {stack}",
            )
        )
    no_gpu = "unset while gpuEnabled is false"
    no_knative = "unset with kserveDeploymentMode RawDeployment (no Knative)"
    ignored = {
        "gpuDevicePluginChartVersion": (gpu_off, no_gpu),
        "mldeGpuImage": (gpu_off, no_gpu),
        "knativeServingVersion": (mode == "RawDeployment", no_knative),
        "knativeNetIstioVersion": (mode == "RawDeployment", no_knative),
        "istioChartVersion": (istio_off, "unset while istioEnabled is false"),
    }
    for key, (unused, allowed) in ignored.items():
        if unused and key in raw:
            problems.append(
                Problem(
                    key,
                    raw[key],
                    "is set but unused by this stack's other settings, so it would be ignored",
                    allowed,
                    f"pulumi config rm {key} --stack {stack}",
                )
            )
    problems.extend(_check_flow(stack, value, raw))
    if raw.get("target") == "aws":
        version = nested.get(
            "kubernetes_version", StackConfig.model_fields["kubernetes_version"].get_default()
        )
        problems.extend(_check_aws(stack, value, raw, gpu_off, str(version)))
    kubeconfig = value("cluster", "kubeconfig")
    if isinstance(kubeconfig, str) and kubeconfig and kubeconfig != OFFLINE_SECRET:
        problems.extend(_check_kubeconfig(stack, kubeconfig, str(value("cluster", "context"))))
    return problems


def _check_flow(
    stack: str, value: Callable[[str, str], Any], raw: Mapping[str, Any]
) -> list[Problem]:
    """The flow needs an example, a registry to push to, and addresses it can reach."""
    if _off(value("flow", "enabled")):
        return []
    problems: list[Problem] = []
    example = str(value("flow", "example"))
    known = sorted(p.parent.name for p in EXAMPLES_DIR.glob(f"*/{MANIFEST_FILE}"))
    if example not in known:
        problems.append(
            Problem(
                "flowExample",
                example,
                "is not an example of this repository",
                ", ".join(known) or "(none found under examples/)",
                _set_fix(stack, "flowExample", known[0] if known else "<example>"),
            )
        )
    target = raw.get("target")
    registry = raw.get("registry", "")
    if target == "existing" and not registry:
        problems.append(
            Problem(
                "registry",
                _MISSING,
                "is required while flowEnabled is true: the flow's images are pushed there",
                "HOST[:PORT][/PATH] of a registry the cluster can pull from",
                _set_fix(stack, "registry", "<host>/pdk")
                + f", or: pulumi config set flowEnabled false --stack {stack}",
            )
        )
    node_port = value("expose", "service_type") == "NodePort"
    for key, name, example_value in (
        ("flowMldmAddress", "mldm_address", "localhost:30080"),
        ("flowMldeUrl", "mlde_url", "http://localhost:30081"),
    ):
        current = str(value("flow", name))
        if node_port and not current:
            problems.append(
                Problem(
                    key,
                    _MISSING,
                    "is required with exposeServiceType NodePort: there is no load balancer "
                    "address for Pulumi to reach",
                    "an address reachable from the machine running pulumi up",
                    _set_fix(stack, key, example_value),
                )
            )
    address = str(value("flow", "mldm_address"))
    if address and not re.fullmatch(r"[A-Za-z0-9.-]+:[0-9]{1,5}", address):
        problems.append(
            Problem(
                "flowMldmAddress",
                address,
                "is not HOST:PORT",
                "e.g. localhost:30080 or mldm.pdk.internal:80",
                _set_fix(stack, "flowMldmAddress", "localhost:30080"),
            )
        )
    url = str(value("flow", "mlde_url"))
    if url and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?", url):
        problems.append(
            Problem(
                "flowMldeUrl",
                url,
                "is not an http(s) URL of a host",
                "e.g. http://localhost:30081 or https://mlde.pdk.internal",
                _set_fix(stack, "flowMldeUrl", "http://localhost:30081"),
            )
        )
    return problems


def _check_aws(
    stack: str,
    value: Callable[[str, str], Any],
    raw: Mapping[str, Any],
    gpu_off: bool,
    k8s_version: str,
) -> list[Problem]:
    """The AWS target's rules across keys: sizes, zones, the VPC choice, GPU instances."""
    problems: list[Problem] = []

    def aws(name: str) -> Any:
        return value("aws", name)

    def problem(key: str, bad: Any, reason: str, allowed: str, fix: str) -> None:
        problems.append(Problem(key, bad, reason, allowed, fix))

    for pool in ("cpu", "gpu"):
        sizes = {}
        for part in ("min", "desired", "max"):
            try:
                sizes[part] = int(aws(f"{pool}_{part}_size"))
            except (TypeError, ValueError):
                break  # reported as a type error already
        else:
            prefix = f"aws{pool.title()}"
            if sizes["min"] > sizes["max"]:
                problem(
                    f"{prefix}MinSize",
                    sizes["min"],
                    f"is larger than {prefix}MaxSize ({sizes['max']})",
                    f"0 to {prefix}MaxSize",
                    f"lower {prefix}MinSize or raise {prefix}MaxSize",
                )
            elif not sizes["min"] <= sizes["desired"] <= sizes["max"]:
                problem(
                    f"{prefix}DesiredSize",
                    sizes["desired"],
                    f"is outside {prefix}MinSize..{prefix}MaxSize ({sizes['min']}..{sizes['max']})",
                    f"{sizes['min']} to {sizes['max']}",
                    _set_fix(stack, f"{prefix}DesiredSize", str(sizes["min"])),
                )
    if str(aws("cpu_min_size")) == "0":
        problem(
            "awsCpuMinSize",
            0,
            "is 0, but the CPU group runs the platform's services and the autoscaler itself",
            "1 or more",
            _set_fix(stack, "awsCpuMinSize", "1"),
        )

    region = str(aws("region"))
    existing_vpc = bool(aws("existing_vpc_id"))
    if existing_vpc:
        for key, name, least in (
            ("awsPrivateSubnetIds", "private_subnet_ids", 2),
            ("awsPublicSubnetIds", "public_subnet_ids", 1),
        ):
            ids = split_list(str(aws(name)))
            if len(ids) < least:
                problem(
                    key,
                    raw.get(key, _MISSING),
                    f"lists {len(ids)} subnet(s), but awsExistingVpcId needs at least {least}",
                    f"{least} or more subnet ids of that VPC"
                    + (" in different zones" if least > 1 else ""),
                    _set_fix(stack, key, "subnet-aaa,subnet-bbb"),
                )
        for key in ("awsVpcCidr", "awsAvailabilityZones", "awsNatGateways"):
            if key in raw:
                problem(
                    key,
                    raw[key],
                    "is set but awsExistingVpcId is too, so it would be ignored (it shapes a new "
                    "VPC only)",
                    "unset with awsExistingVpcId",
                    f"pulumi config rm {key} --stack {stack}",
                )
    else:
        for key in ("awsPrivateSubnetIds", "awsPublicSubnetIds"):
            if key in raw:
                problem(
                    key,
                    raw[key],
                    "is set but awsExistingVpcId is not, so it would be ignored",
                    "unset when a new VPC is created",
                    f"set awsExistingVpcId, or: pulumi config rm {key} --stack {stack}",
                )
        zones = split_list(str(aws("availability_zones")))
        if zones:
            wrong = [zone for zone in zones if not re.fullmatch(rf"{re.escape(region)}[a-z]", zone)]
            if wrong:
                problem(
                    "awsAvailabilityZones",
                    raw.get("awsAvailabilityZones"),
                    f"names {wrong[0]!r}, which is not a zone of region {region}",
                    f"zones named {region} plus a letter, e.g. {region}a",
                    _set_fix(stack, "awsAvailabilityZones", f"{region}a,{region}b,{region}c"),
                )
            elif not 2 <= len(set(zones)) == len(zones) <= 6:
                problem(
                    "awsAvailabilityZones",
                    raw.get("awsAvailabilityZones"),
                    "must name 2 to 6 different zones (EKS needs subnets in two or more)",
                    f"e.g. {region}a,{region}b,{region}c",
                    _set_fix(stack, "awsAvailabilityZones", f"{region}a,{region}b,{region}c"),
                )

    access = str(aws("api_access_cidrs"))
    if not access:
        problem(
            "awsApiAccessCidrs",
            _MISSING,
            "is required on aws: the EKS API endpoint is closed to the internet unless you name "
            "who may reach it",
            "comma-separated CIDRs, e.g. 203.0.113.7/32 for your address",
            _set_fix(stack, "awsApiAccessCidrs", "<your-ip>/32"),
        )
    else:
        try:
            _source_ranges(access)
        except PydanticCustomError as error:
            ctx = error.context or {}
            problem("awsApiAccessCidrs", access, error.message(), ctx["allowed"], ctx["fix"])

    gpu_type = str(aws("gpu_instance_type"))
    match = _INSTANCE_TYPE.match(gpu_type)
    if not gpu_off and match:
        sizes_known = GPU_INSTANCE_GPUS.get(match["family"])
        if sizes_known is None:
            problem(
                "awsGpuInstanceType",
                gpu_type,
                f"has no NVIDIA GPU (family {match['family']} is not a GPU family the EKS NVIDIA "
                "AMI runs)",
                ", ".join(f"{family}.*" for family in GPU_INSTANCE_GPUS),
                _set_fix(stack, "awsGpuInstanceType", "g4dn.xlarge")
                + f", or: pulumi config set gpuEnabled false --stack {stack}",
            )
        elif match["size"] not in sizes_known:
            problem(
                "awsGpuInstanceType",
                gpu_type,
                f"is not a size of the {match['family']} family",
                ", ".join(f"{match['family']}.{size}" for size in sizes_known),
                _set_fix(stack, "awsGpuInstanceType", f"{match['family']}.xlarge"),
            )
        else:
            gpus = sizes_known[match["size"]]
            slots = value("mlde", "max_slots_per_pod")
            if isinstance(slots, int) and slots > gpus:
                problem(
                    "mldeMaxSlotsPerPod",
                    slots,
                    f"exceeds the {gpus} GPU(s) of one {gpu_type} node, so such a task could "
                    "never be scheduled",
                    f"1 to {gpus}",
                    _set_fix(stack, "mldeMaxSlotsPerPod", str(gpus)),
                )
    if gpu_off:
        for key in (
            "awsGpuInstanceType",
            "awsGpuMinSize",
            "awsGpuDesiredSize",
            "awsGpuMaxSize",
            "awsGpuDiskSize",
            "awsGpuCapacityType",
        ):
            if key in raw:
                problem(
                    key,
                    raw[key],
                    "is set but unused by this stack's other settings, so it would be ignored",
                    "unset while gpuEnabled is false",
                    f"pulumi config rm {key} --stack {stack}",
                )

    image = _IMAGE.match(str(aws("cluster_autoscaler_image")))
    if image and image["tag"]:
        minor = re.match(r"^v?([0-9]+\.[0-9]+)\.", image["tag"])
        if minor and minor[1] != k8s_version:
            problem(
                "awsClusterAutoscalerImage",
                aws("cluster_autoscaler_image"),
                f"is cluster-autoscaler {minor[1]}, but the cluster runs Kubernetes {k8s_version} "
                "(the autoscaler's minor version must match the cluster's)",
                f"a {k8s_version}.x tag",
                _set_fix(
                    stack,
                    "awsClusterAutoscalerImage",
                    f"registry.k8s.io/autoscaling/cluster-autoscaler:v{k8s_version}.<patch>",
                ),
            )
    return problems


def _check_kubeconfig(stack: str, text: str, context: str) -> list[Problem]:
    fix = f"pulumi config set --secret kubeconfig --stack {stack} < path/to/kubeconfig"
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return [
            Problem(
                "kubeconfig",
                "[secret]",
                f"is not valid YAML{where}",
                "a kubeconfig file's YAML",
                fix,
            )
        ]
    if not isinstance(document, dict) or not isinstance(document.get("clusters"), list):
        return [
            Problem(
                "kubeconfig",
                "[secret]",
                "is YAML but not a kubeconfig (no 'clusters' list)",
                "a kubeconfig with clusters, users and contexts",
                fix,
            )
        ]
    names = [c.get("name") for c in document.get("contexts") or [] if isinstance(c, dict)]
    if context and context not in names:
        return [
            Problem(
                "kubeContext",
                context,
                "is not a context in the kubeconfig",
                ", ".join(str(n) for n in names) or "(the kubeconfig has no contexts)",
                _set_fix(stack, "kubeContext", str(names[0]) if names else "<context>"),
            )
        ]
    return []


def _is_default(key: str, value: Any) -> bool:
    spec = KEYS.get(key)
    return (
        spec is not None and not spec.required and str(value).lower() == str(spec.default).lower()
    )


def load_config(
    stack: str,
    raw: Mapping[str, Any],
    secret_keys: frozenset[str] = frozenset(),
) -> StackConfig:
    """Validates a stack's raw config (flat keys without the project namespace).

    Raises ``ConfigError`` listing every problem. ``secret_keys`` names the keys Pulumi holds
    encrypted; a key that must be secret and is not is a problem of its own.
    """
    problems: list[Problem] = []
    nested: dict[str, Any] = {}
    # Pulumi hands the program every key declared with a default in Pulumi.yaml, set or not.
    # A value equal to its default is treated as unset, so target-only and would-be-ignored
    # checks fire only for what a stack really sets.
    raw = {key: value for key, value in raw.items() if not _is_default(key, value)}
    target = raw.get("target")
    for key, value in raw.items():
        spec = KEYS.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(
                Problem(
                    key,
                    value,
                    "is not a known key",
                    "see `pdk config-keys` or Pulumi.yaml",
                    f"{hint}remove it with: pulumi config rm {key} --stack {stack}",
                )
            )
            continue
        if spec.targets is not None and isinstance(target, str) and target not in spec.targets:
            problems.append(
                Problem(
                    key,
                    value,
                    f"only applies to target {', '.join(spec.targets)}, not '{target}'",
                    f"unset on target {target}",
                    f"pulumi config rm {key} --stack {stack}",
                )
            )
            continue
        if spec.secret and value and key not in secret_keys:
            problems.append(
                Problem(
                    key,
                    "[hidden]",
                    "is stored in plain text",
                    "a Pulumi secret",
                    f"pulumi config rm {key} --stack {stack}; then pulumi config set --secret "
                    f"{key} --stack {stack} < FILE",
                )
            )
            continue
        if spec.group is None:
            nested[spec.field_name] = value
        else:
            nested.setdefault(spec.group, {})[spec.field_name] = value

    config: StackConfig | None = None
    try:
        config = StackConfig.model_validate(nested)
    except ValidationError as error:
        problems.extend(_problem_from_pydantic(stack, e, raw) for e in error.errors())
    problems.extend(_check_combinations(stack, nested, raw))
    if problems:
        raise ConfigError(stack, problems)
    assert config is not None
    return config


def project_config_schema() -> dict[str, dict[str, Any]]:
    """The ``config:`` block of ``Pulumi.yaml``, generated from the models above.

    ``kubeconfig`` is not declared ``secret: true`` there: it is optional, and the CLI's handling
    of a secret key that falls back to a default is not something to lean on. ``load_config``
    refuses a plain-text kubeconfig instead, which also covers the offline plan.
    """
    types: dict[Any, str] = {bool: "boolean", int: "integer"}
    block: dict[str, dict[str, Any]] = {}
    for spec in KEYS.values():
        entry: dict[str, Any] = {"type": types.get(spec.annotation, "string")}
        entry["description"] = spec.description
        if spec.targets is not None:
            entry["description"] += f" (Target: {', '.join(spec.targets)}.)"
        if not spec.required:
            entry["default"] = spec.default
        block[spec.key] = entry
    return block
