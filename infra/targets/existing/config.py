"""The existing-cluster target's keys: how Pulumi reaches the cluster, where the shared
filesystem comes from, and the in-cluster Postgres and MinIO; with the rules across them.

Imports only pydantic and the shared config package, so config errors stay fast.
"""

from __future__ import annotations

import posixpath
import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, Field

from infra.config.problems import MISSING, Problem, fail, ignored, set_fix, warning
from infra.config.rules import RuleContext
from infra.config.types import OFFLINE_SECRET, Model
from infra.targets.spec import TargetSection
from infra.values import PinnedImage, Quantity

_REGISTRY = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


def _registry(value: str) -> str:
    if value and not _REGISTRY.match(value):
        raise fail(
            "is not an image registry prefix",
            "HOST[:PORT][/PATH] without scheme or tag, e.g. localhost:5001/pdk or docker.io/acme",
            "drop any 'https://' and trailing '/'",
        )
    return value


def _host(value: str) -> str:
    if value and not _HOST.match(value):
        raise fail(
            "is not a host name or IP address",
            "a DNS name or an IPv4 address, e.g. nfs.example.internal or 10.0.0.5",
            "give the address only, without scheme or path",
        )
    return value


def _absolute_path(value: str) -> str:
    if not value.startswith("/"):
        raise fail("is not an absolute path", "a path starting with '/'", "write the full path")
    return value


RegistryPrefix = Annotated[str, AfterValidator(_registry)]
Host = Annotated[str, AfterValidator(_host)]
AbsolutePath = Annotated[str, AfterValidator(_absolute_path)]


class ClusterConfig(Model):
    """How Pulumi reaches an existing Kubernetes cluster."""

    kubeconfig: str = Field(
        "",
        description="Kubeconfig YAML for the cluster; store it with --secret. "
        "Empty: the ambient kubeconfig ($KUBECONFIG or ~/.kube/config).",
    )
    context: str = Field(
        "",
        description="Kubeconfig context to use. Empty: the kubeconfig's current context.",
    )
    storage_class: str = Field(
        "",
        description="StorageClass for Postgres and MinIO volumes. Empty: the cluster's default "
        "StorageClass.",
    )


class SharedFsSourceConfig(Model):
    """Where the shared filesystem (``sharedFsSize``, bound as ``pdk-pvc``) comes from."""

    type: Literal["nfs", "hostPath"] = Field(
        "hostPath",
        description="nfs: an existing NFS export. hostPath: a folder present on every node "
        "(single-node kind/minikube, or a folder the operator shares across nodes).",
    )
    nfs_server: Host = Field(
        "",
        description="NFS server address; required when sharedFsType is nfs, unused otherwise.",
    )
    path: AbsolutePath = Field(
        "/mnt/pdk-shared",
        description="The NFS export path (nfs) or the node folder (hostPath).",
    )


class PostgresStorageConfig(Model):
    """The in-cluster Postgres (image: the shared ``postgresImage``) that holds the pachyderm,
    dex and determined databases."""

    storage_size: Quantity = Field("20Gi", description="Size of the Postgres data volume.")


class MinioConfig(Model):
    """The in-cluster MinIO that provides S3 buckets on clusters without a cloud object store."""

    image: PinnedImage = Field(
        "quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z",
        description="MinIO server image, pinned (never minio:latest).",
    )
    client_image: PinnedImage = Field(
        "quay.io/minio/mc:RELEASE.2025-04-03T17-07-56Z",
        description="MinIO client image used by the job that creates buckets and the workload "
        "user.",
    )
    storage_size: Quantity = Field("50Gi", description="Size of the MinIO data volume.")


class ExistingConfig(Model):
    """Everything only the existing-cluster target reads."""

    registry: RegistryPrefix = Field(
        "",
        description="Image registry prefix the flow's images are pushed to "
        "(e.g. localhost:5001/pdk). Empty: none; the flow's images cannot be built.",
    )
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    shared_fs: SharedFsSourceConfig = Field(default_factory=SharedFsSourceConfig)
    postgres: PostgresStorageConfig = Field(default_factory=PostgresStorageConfig)
    minio: MinioConfig = Field(default_factory=MinioConfig)


Context = RuleContext[ExistingConfig]


def nfs_needs_server(ctx: Context) -> list[Problem]:
    source = ctx.section.shared_fs
    if source.type != "nfs" or source.nfs_server:
        return []
    return [
        Problem(
            "sharedFsNfsServer",
            ctx.raw.get("sharedFsNfsServer", MISSING),
            "is required when sharedFsType is nfs",
            "the NFS server's address",
            set_fix(ctx.stack, "sharedFsNfsServer", "<address>"),
        )
    ]


def host_path_ignores_server(ctx: Context) -> list[Problem]:
    source = ctx.section.shared_fs
    if source.type != "hostPath" or not source.nfs_server:
        return []
    return [
        ignored(
            ctx.stack,
            "sharedFsNfsServer",
            source.nfs_server,
            "empty with hostPath; or set sharedFsType to nfs",
            "sharedFsType is hostPath",
        )
    ]


SYSTEM_FOLDERS = (
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib64",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var",
    "/var/lib",
    "/var/lib/kubelet",
    "/var/lib/containerd",
    "/var/lib/docker",
    "/var/run",
)
"""Node folders that hold the node's own system: mounted read-write into every task pod, a task
could rewrite the node (the root filesystem, the kubelet's or the container runtime's state)."""


def host_path_is_not_a_system_folder(ctx: Context) -> list[Problem]:
    source = ctx.section.shared_fs
    if source.type != "hostPath":
        return []
    normal = posixpath.normpath(source.path)
    if normal.startswith("//"):
        normal = normal[1:]
    if normal not in SYSTEM_FOLDERS and ".." not in source.path.split("/"):
        return []
    return [
        Problem(
            "sharedFsPath",
            source.path,
            "is a system folder of the node (or climbs with '..'); with hostPath it would be "
            "mounted read-write into every task pod",
            "a folder of its own, e.g. /mnt/pdk-shared",
            set_fix(ctx.stack, "sharedFsPath", "/mnt/pdk-shared"),
        )
    ]


def host_path_on_many_nodes(ctx: Context) -> list[Problem]:
    """A hostPath folder is per node; with GPU nodes beside CPU nodes, tasks that land on
    different nodes see different files unless the operator shares the folder."""
    source = ctx.section.shared_fs
    if source.type != "hostPath" or not ctx.config.gpu.enabled:
        return []
    return [
        warning(
            "sharedFsType",
            source.type,
            "hostPath keeps the shared filesystem on each node; with GPU nodes (gpuEnabled) the "
            "cluster has several nodes, and MLDE tasks on different nodes would not share files "
            "unless the folder is the same network mount on every node",
            "nfs with sharedFsNfsServer",
            set_fix(ctx.stack, "sharedFsType", "nfs"),
        )
    ]


def flow_needs_registry(ctx: Context) -> list[Problem]:
    """The flow's images are built and pushed; this target has no registry of its own."""
    if not ctx.config.flow.enabled or ctx.section.registry:
        return []
    return [
        Problem(
            "registry",
            MISSING,
            "is required while flowEnabled is true: the flow's images are pushed there",
            "HOST[:PORT][/PATH] of a registry the cluster can pull from",
            set_fix(ctx.stack, "registry", "<host>/pdk")
            + f", or: pulumi config set flowEnabled false --stack {ctx.stack}",
        )
    ]


def kubeconfig_is_a_kubeconfig(ctx: Context) -> list[Problem]:
    """A kubeconfig that cannot be read, or lacks the context, fails only at deploy time."""
    cluster = ctx.section.cluster
    text, context = cluster.kubeconfig, cluster.context
    if not text or text == OFFLINE_SECRET:
        return []
    fix = f"pulumi config set --secret kubeconfig --stack {ctx.stack} < path/to/kubeconfig"
    try:
        document: Any = yaml.safe_load(text)
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
                set_fix(ctx.stack, "kubeContext", str(names[0]) if names else "<context>"),
            )
        ]
    return []


SECTION = TargetSection(
    target="existing",
    prefix="",
    model=ExistingConfig,
    rules=(
        nfs_needs_server,
        host_path_ignores_server,
        host_path_is_not_a_system_folder,
        host_path_on_many_nodes,
        flow_needs_registry,
        kubeconfig_is_a_kubeconfig,
    ),
)
"""The existing target's keys (named without a prefix: ``kubeconfig``, ``minioImage``)."""
