"""The target contract: everything a target hands to the layers above it.

A target (an existing cluster today; AWS and GCP next) creates or adopts a Kubernetes cluster
and the stateful services around it, then describes them with one ``TargetContract``. The
platform layer (cert-manager, Istio, Knative, KServe, MLDM, MLDE and the PDK wiring) and the
flow consume this object and nothing else: no layer above a target may branch on the target's
name. A field a new target cannot fill is a change to this contract, reviewed as such.

Values are Pulumi inputs because most are only known after deployment (a bucket's generated
name, a database endpoint). Secrets (passwords, access keys) are always ``pulumi.Output`` values
marked secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

DATABASES = ("pachyderm", "dex", "determined")
"""The Postgres databases MLDM (pachyderm, dex) and MLDE (determined) expect."""

SHARED_CLAIM = "pdk-pvc"
"""Name of the shared read-write-many claim, in every namespace of ``SharedFilesystem``."""

SHARED_MOUNT_PATH = "/run/determined/workdir/shared_fs"
"""Where MLDE tasks mount the shared claim."""

FLOW_IMAGES = ("train", "deploy")
"""The flow's images, built by the stack; targets with per-image repositories create these."""

Workload = Literal["mldm", "mlde", "kserve"]
"""The platform workloads that read or write object storage."""


@dataclass(frozen=True)
class ServiceAccountRef:
    """A Kubernetes service account, by namespace and name."""

    namespace: str
    name: str


WORKLOAD_SERVICE_ACCOUNTS: Mapping[Workload, tuple[ServiceAccountRef, ...]] = {
    # The Pachyderm chart's accounts: pachd, and the pipeline workers.
    "mldm": (
        ServiceAccountRef("default", "pachyderm"),
        ServiceAccountRef("default", "pachyderm-worker"),
    ),
    # MLDE task pods (trials, checkpoint GC) in both resource pools.
    "mlde": (
        ServiceAccountRef("default", "mlde-tasks"),
        ServiceAccountRef("gpu-pool", "mlde-tasks"),
    ),
    # InferenceServices read the model bucket as this account.
    "kserve": (ServiceAccountRef("models", "kserve-models"),),
}
"""The service accounts that carry each workload's storage identity. Cloud targets trust
exactly these in their workload identities (IRSA, Workload Identity); the platform creates or
names its accounts from this table, so the two cannot drift apart."""


@dataclass(frozen=True)
class PodPeer:
    """Pods allowed to open connections to an in-cluster service (a NetworkPolicy peer)."""

    namespace: str
    labels: Mapping[str, str] | None = None
    """Pod labels to match; None: every pod of the namespace."""


DATABASE_CLIENTS: tuple[PodPeer, ...] = (
    # The Pachyderm chart's pods that open database connections (pachd and pachw directly for
    # LISTEN/NOTIFY, pg-bouncer for the rest), labels from its templates (chart 2.12).
    PodPeer("default", {"app": "pachd", "suite": "pachyderm"}),
    PodPeer("default", {"app": "pachw", "suite": "pachyderm"}),
    PodPeer("default", {"app": "pg-bouncer", "suite": "pachyderm"}),
    # The MLDE master (templates/determined/master-deployment.yaml, release "pachyderm").
    PodPeer("default", {"app": "determined-master-pachyderm"}),
)
"""Who may reach an in-cluster Postgres besides its own setup Job."""
OBJECT_STORE_CLIENTS: tuple[PodPeer, ...] = (
    # MLDM (pachd, pachw, pipeline workers: labelled per pipeline), MLDE trials and checkpoint
    # GC (labelled per task) in both pools, and KServe's storage initializer (per model): their
    # labels are chosen at run time, so the namespaces are the boundary.
    PodPeer("default"),
    PodPeer("gpu-pool"),
    PodPeer("models"),
)
"""Who may reach an in-cluster object store (MinIO) besides its own setup Job."""


@dataclass(frozen=True)
class Buckets:
    """Bucket names; the flow writes ``<model>/config`` and ``<model>/model-store`` prefixes."""

    mldm: pulumi.Input[str]
    """MLDM (Pachyderm) repository storage."""
    checkpoints: pulumi.Input[str]
    """MLDE (Determined) checkpoint storage."""
    models: pulumi.Input[str]
    """KServe model assets (TorchServe .mar files and config)."""

    @classmethod
    def from_roles(cls, names: Mapping[str, pulumi.Input[str]]) -> Buckets:
        """The contract's buckets from a cloud target's names keyed by ``BUCKET_ROLES``."""
        return cls(
            mldm=names["mldm"], checkpoints=names["mlde-checkpoints"], models=names["models"]
        )


BUCKET_ROLES = ("mldm", "mlde-checkpoints", "models")
"""The roles of the buckets a cloud target creates (they name the buckets and key ``GRANTS``)."""


@dataclass(frozen=True)
class Grant:
    """Which buckets (by role) a workload reaches, and whether it writes."""

    buckets: tuple[str, ...]
    write: bool


GRANTS: Mapping[Workload, Grant] = {
    # MLDM stores repositories, and its pipelines (the flow's deploy step) write models.
    "mldm": Grant(("mldm", "mlde-checkpoints", "models"), write=True),
    "mlde": Grant(("mlde-checkpoints",), write=True),
    "kserve": Grant(("models",), write=False),
}
"""What each workload's cloud identity may do with the buckets; every cloud target's IAM reads
this one table, so their grants cannot drift apart."""


@dataclass(frozen=True)
class ObjectStore:
    """The S3-compatible or native object store behind all buckets."""

    kind: Literal["s3", "gcs", "minio"]
    """Which API the charts must speak (Pachyderm's deployTarget follows from it)."""
    endpoint: pulumi.Input[str]
    """In-cluster URL for MinIO (``http://minio.pdk-data.svc.cluster.local:9000``); the
    regional endpoint for S3; empty for GCS."""
    region: str
    """Region of the buckets; MinIO accepts any, by convention ``us-east-1``."""
    secure: bool
    """Whether the endpoint speaks TLS."""
    buckets: Buckets


@dataclass(frozen=True)
class SecretRef:
    """A key in a Kubernetes Secret."""

    namespace: str
    name: str
    key: str


@dataclass(frozen=True)
class StorageAccess:
    """How one workload authenticates to the object store.

    Cloud targets fill ``service_account_annotations`` (IRSA role ARN, GKE Workload Identity) and
    leave the keys empty; MinIO fills the keys, held in a Secret, and needs no annotations.
    """

    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Annotations to put on the workload's Kubernetes service accounts."""
    access_key_id: SecretRef | None = None
    """Where the workload's access key id lives, when it uses keys."""
    secret_access_key: SecretRef | None = None
    """Where the workload's secret key lives, when it uses keys."""
    access_key_id_value: pulumi.Output[str] | None = None
    """The access key id itself (a Pulumi secret), for charts that take keys inline."""
    secret_access_key_value: pulumi.Output[str] | None = None
    """The secret key itself (a Pulumi secret), for charts that take keys inline."""


@dataclass(frozen=True)
class CloudSqlProxy:
    """A Cloud SQL instance reached through the Pachyderm chart's Cloud SQL Auth Proxy."""

    connection_name: pulumi.Input[str]
    """``PROJECT:REGION:INSTANCE``."""
    service_account: pulumi.Input[str]
    """Google service account (Workload Identity) the proxy runs as."""
    private_ip: bool = True
    """Connect to the instance's private IP. The chart's proxy (v2) otherwise dials the
    public one, which a private-only instance does not have."""


DATABASE_CA_CONFIG_MAP = "postgres-ca"
"""ConfigMap holding ``DatabaseCa.pem`` under ``DATABASE_CA_KEY``, in the namespace of each
client that verifies the database server (the setup Job's, MLDE's)."""
DATABASE_CA_KEY = "ca.pem"


@dataclass(frozen=True)
class DatabaseCa:
    """The CA certificates that sign a managed Postgres server's certificate, so clients can
    verify the server (``sslmode=verify-full``) rather than only encrypt."""

    pem: str
    """Public CA certificates, PEM; shipped in a ConfigMap next to each client."""
    name: str
    """Which CA it is, for logs and docs (e.g. ``Amazon RDS us-east-2 Root CA RSA2048 G1``)."""


@dataclass(frozen=True)
class Postgres:
    """The one Postgres server holding ``DATABASES``."""

    host: pulumi.Input[str]
    """Host name reachable from inside the cluster."""
    port: int
    user: str
    password: pulumi.Output[str]
    """The user's password, a Pulumi secret."""
    databases: Sequence[str]
    """Database names; always ``DATABASES``."""
    ready: Sequence[pulumi.Resource]
    """Resources to depend on before connecting: the databases exist once these are done."""
    sslmode: Literal["disable", "require", "verify-full"] = "disable"
    """How clients use TLS; ``verify-full`` needs ``ca``."""
    ca: DatabaseCa | None = None
    """Set by targets whose Postgres presents a certificate clients can verify."""
    cloud_sql: CloudSqlProxy | None = None
    """Set when clients must go through the Cloud SQL Auth Proxy; ``host`` is then unused and
    the platform points clients at the proxy the MLDM chart runs."""


@dataclass(frozen=True)
class SharedFilesystem:
    """The read-write-many volume MLDE mounts at ``SHARED_MOUNT_PATH``."""

    claim_name: str
    """The claim's name, identical in every namespace (``SHARED_CLAIM``)."""
    namespaces: Sequence[str]
    """Namespaces in which the claim exists and is bound."""
    mount_path: str = SHARED_MOUNT_PATH


@dataclass(frozen=True)
class ImageRegistry:
    """Where the flow's images are pushed and pulled from."""

    url: pulumi.Input[str]
    """Registry prefix, ``HOST[:PORT]/PATH``; images are ``<url>/<name>:<tag>``. Empty when the
    stack configures none."""
    username: pulumi.Input[str] | None = None
    """User to push with, when the registry needs credentials the builder lacks (ECR)."""
    password: pulumi.Output[str] | None = None
    """Its password or token, a Pulumi secret."""
    repositories: Sequence[str] = ()
    """Image names the target created repositories for (``<url>/<name>``); empty when any name
    may be pushed."""


@dataclass(frozen=True)
class NodePlacement:
    """The labels and taint that separate CPU and GPU work."""

    gpu_enabled: bool
    """Whether GPU nodes exist; False makes every pool CPU-only."""
    gpu_label: tuple[str, str]
    """(key, value) carried by GPU nodes."""
    gpu_taint: tuple[str, str, str]
    """(key, value, effect) on GPU nodes; GPU pods must tolerate it."""
    cpu_label: tuple[str, str]
    """(key, value) carried by CPU nodes."""
    needs_device_plugin: bool
    """Whether the platform must install the NVIDIA device plugin (the target does not)."""

    @property
    def gpu_toleration(self) -> dict[str, str]:
        """The toleration of ``gpu_taint``, as chart values and MLDE pod specs write it."""
        key, value, effect = self.gpu_taint
        return {"key": key, "operator": "Equal", "value": value, "effect": effect}


@dataclass(frozen=True)
class TargetContract:
    """What every target provides. Document a new field here before a target fills it."""

    name: str
    """The target kind, for display only. Layers above must not branch on it."""
    provider: k8s.Provider
    """Kubernetes provider for the cluster; every Kubernetes resource above uses it."""
    kubernetes_version: str
    """MAJOR.MINOR of the cluster."""
    cluster_name: pulumi.Input[str]
    """How users know the cluster (the cloud cluster's name, or the kubeconfig context);
    shown in ``pdk-config``."""
    namespaces: Mapping[str, k8s.core.v1.Namespace]
    """Namespaces the target created (``gpu-pool``, ``models``, its data namespace)."""
    object_store: ObjectStore
    storage_access: Mapping[Workload, StorageAccess]
    """How each workload reaches ``object_store``."""
    postgres: Postgres
    shared_fs: SharedFilesystem
    registry: ImageRegistry
    nodes: NodePlacement
    ready: Sequence[pulumi.Resource] = ()
    """Resources the platform must wait for before installing anything."""
    kubeconfig: pulumi.Output[str] | None = None
    """A kubeconfig for the cluster (a Pulumi secret), when the target created the cluster."""
    load_balancer_annotations: Mapping[str, str] = field(default_factory=dict)
    """Annotations for every Service of type LoadBalancer, from the cloud's controller
    vocabulary: on AWS, the tags the load balancer carries (so the leak query finds it)."""
    commands: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Ready-to-run commands specific to this target (a console port-forward, a shell),
    exported as the ``commands`` stack output. Never put a secret value in one: give the
    command that reveals it instead."""
    models_writer: StorageAccess | None = None
    """Keys that may write the models bucket and nothing else, for the flow's deploy step, on
    targets whose workloads use keys (MinIO); their Secret lives in ``default``, where the
    MLDM pipeline workers run. None where the workers' own identity reaches the bucket
    (IRSA, Workload Identity)."""
