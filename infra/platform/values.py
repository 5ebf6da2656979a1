"""The Pachyderm chart's values (MLDM, and MLDE through its ``determined:`` block), as a pure
function of the target contract and the MLDE settings.

Nothing here registers a resource, so the same function can be checked directly for every
kind of target (S3, GCS, MinIO; direct Postgres or Cloud SQL proxy) and its result for each
stack is pinned in a golden file. Keys follow the pachyderm chart 2.12
(``versions.PACHYDERM_CHART``), which vendors the Determined 0.38 chart; each key was checked
against the chart's templates by rendering it (see the issue 11 note).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from infra.contract import (
    DATABASE_CA_CONFIG_MAP,
    DATABASE_CA_KEY,
    DATABASES,
    WORKLOAD_SERVICE_ACCOUNTS,
    NodePlacement,
    ObjectStore,
    Postgres,
    SharedFilesystem,
    StorageAccess,
    TargetContract,
)
from infra.platform.endpoints import Endpoint, host_and_port
from infra.sizing import Size, resources

RELEASE = "pachyderm"
ETCD_CLAIM = "etcd-storage-etcd-0"
"""The claim of MLDM's etcd (the chart's one-replica StatefulSet ``etcd``, claim template
``etcd-storage``). The platform declares it (``infra.platform.mldm``) and the StatefulSet adopts
it by name: a claim made from a template outlives the StatefulSet, so a destroy left it behind."""
ETCD_STORAGE_SIZE = "10Gi"
"""The chart's default ``etcd.storageSize``, set explicitly so the claim we declare matches."""
"""Release name; the chart derives the MLDE service names from it."""
NAMESPACE = "default"
MLDM_SERVICE_ACCOUNT, WORKER_SERVICE_ACCOUNT = (
    account.name for account in WORKLOAD_SERVICE_ACCOUNTS["mldm"]
)
TASK_SERVICE_ACCOUNT = WORKLOAD_SERVICE_ACCOUNTS["mlde"][0].name
"""MLDE task pods run as this account (in ``default`` and ``gpu-pool``), which carries the
checkpoint bucket identity on cloud targets."""
POSTGRES_SECRET_KEY = "postgresql-password"
TASK_CONTAINER = "determined-container"
"""MLDE merges pod specs into the container of this name."""
CLOUD_SQL_PROXY_HOST = f"cloudsql-auth-proxy.{NAMESPACE}.svc.cluster.local"
DEFAULT_POOL = "default"
GPU_POOL = "gpu-pool"
_DEPLOY_TARGET = {"s3": "AMAZON", "gcs": "GOOGLE", "minio": "CUSTOM"}
"""MinIO is reached through the S3 backend: chart 2.11 removed the MINIO object client."""

PACHD = Endpoint(NAMESPACE, "pachd", 30650, "grpc")
PACHD_S3 = Endpoint(NAMESPACE, "pachd", 30600, "http")
MLDE_MASTER = Endpoint(NAMESPACE, f"determined-master-service-{RELEASE}", 8080, "http")


@dataclass(frozen=True)
class MldeSettings:
    """The MLDE choices that come from config rather than from the target."""

    version: str
    """Determined version (``detVersion``)."""
    cpu_image: str
    gpu_image: str
    max_slots_per_pod: int
    compute_pool: str
    """``default`` or ``gpu-pool``: where experiments run."""


def database_host(postgres: Postgres) -> pulumi.Input[str]:
    """Where in-cluster clients connect: the Cloud SQL proxy when there is one."""
    return CLOUD_SQL_PROXY_HOST if postgres.cloud_sql else postgres.host


def _secret(value: pulumi.Input[str] | None) -> pulumi.Output[str]:
    """Marks a value secret explicitly: chart values are one blob, and a single plain secret
    inside it would be stored and shown in clear."""
    return pulumi.Output.secret(value or "")


def _storage(store: ObjectStore, mldm: StorageAccess) -> dict[str, Any]:
    """``pachd.storage``: from chart 2.11 pachd opens its bucket from ``storageURL`` alone
    (templates/pachd/deployment.yaml requires it); the per-backend block only carries keys."""
    if store.kind == "minio":
        # pachd reads endpoint, disableSSL and region from the URL and forces path-style
        # addressing when an endpoint is given (src/internal/obj/bucket.go amazonSession).
        return {
            "backend": "AMAZON",
            "storageURL": pulumi.Output.format(
                "s3://{0}?endpoint={1}&disableSSL={2}&region={3}",
                store.buckets.mldm,
                host_and_port(store.endpoint),
                "false" if store.secure else "true",
                store.region,
            ),
            "amazon": {
                "id": _secret(mldm.access_key_id_value),
                "secret": _secret(mldm.secret_access_key_value),
            },
        }
    if store.kind == "s3":
        return {
            "storageURL": pulumi.Output.format(
                "s3://{0}?region={1}", store.buckets.mldm, store.region
            ),
            "amazon": {"region": store.region},
        }
    return {"storageURL": pulumi.Output.format("gs://{0}", store.buckets.mldm)}


def _postgres_tls(postgres: Postgres) -> dict[str, Any]:
    """TLS of MLDM's database clients (``global.postgresql``).

    pg-bouncer carries most of pachd's queries and takes any libpq sslmode plus a CA
    (``postgresqlSSL``, ``postgresqlSSLCACert``: templates/pgbouncer). pachd's direct
    connection (migrations, LISTEN/NOTIFY) only has ``ssl: true``, which the chart turns into
    ``POSTGRES_SSL=require``: encrypted, but the chart offers no way to give pachd a CA. pachw
    has no TLS setting at all (templates/pachw/deployment.yaml at 2.12).
    """
    if postgres.cloud_sql is not None:
        # The proxy encrypts the hop to Cloud SQL; the in-cluster hop to it is plain.
        return {"postgresqlSSL": "disable"}
    tls: dict[str, Any] = {"postgresqlSSL": postgres.sslmode}
    if postgres.sslmode != "disable":
        tls["ssl"] = True
    if postgres.ca is not None:
        tls["postgresqlSSLCACert"] = postgres.ca.pem
    return tls


def _determined_tls(postgres: Postgres) -> dict[str, Any]:
    """TLS of the MLDE master's connection: ``db.sslMode`` with a root certificate from a
    ConfigMap the platform creates (templates/determined/master-config.yaml requires both)."""
    if postgres.cloud_sql is not None or postgres.ca is None or postgres.sslmode == "disable":
        return {}
    return {
        "sslMode": postgres.sslmode,
        "sslRootCert": DATABASE_CA_KEY,
        "resourceType": "configMap",
        "certResourceName": DATABASE_CA_CONFIG_MAP,
    }


def _checkpoints(store: ObjectStore, mlde: StorageAccess) -> dict[str, Any]:
    storage: dict[str, Any] = {
        "type": "gcs" if store.kind == "gcs" else "s3",
        "bucket": store.buckets.checkpoints,
        # Keep one checkpoint per trial and the latest; the flow registers the best.
        "saveExperimentBest": 0,
        "saveTrialBest": 1,
        "saveTrialLatest": 1,
    }
    if store.kind == "minio":
        storage["endpointUrl"] = store.endpoint
    if mlde.access_key_id_value is not None:
        storage["accessKey"] = _secret(mlde.access_key_id_value)
        storage["secretKey"] = _secret(mlde.secret_access_key_value)
    return storage


def task_pod_spec(shared_fs: SharedFilesystem, gpu: NodePlacement | None) -> dict[str, Any]:
    """An MLDE task pod spec: the task service account and the shared claim, plus GPU node
    selection and the GPU taint's toleration when ``gpu`` is given."""
    spec: dict[str, Any] = {
        "serviceAccountName": TASK_SERVICE_ACCOUNT,
        "volumes": [
            {"name": "shared-fs", "persistentVolumeClaim": {"claimName": shared_fs.claim_name}}
        ],
        "containers": [
            {
                "name": TASK_CONTAINER,
                "volumeMounts": [{"name": "shared-fs", "mountPath": shared_fs.mount_path}],
            }
        ],
    }
    if gpu is not None:
        # The guides put the GPU label in the pod's own metadata, which selects nothing; a
        # nodeSelector is what keeps GPU tasks on GPU nodes.
        label_key, label_value = gpu.gpu_label
        spec["nodeSelector"] = {label_key: label_value}
        spec["tolerations"] = [gpu.gpu_toleration]
    return {"apiVersion": "v1", "kind": "Pod", "spec": spec}


def _resource_pools(contract: TargetContract) -> list[dict[str, Any]]:
    """MLDE resource pools. Since Determined 0.35 a pool has no namespace of its own: tasks run
    in ``resourceManager.defaultNamespace`` (or a workspace's bound namespace), so the GPU pool
    differs from the default one only by its pod spec (GPU node selector and toleration)."""
    cpu_spec = task_pod_spec(contract.shared_fs, None)
    pools: list[dict[str, Any]] = [
        {"pool_name": DEFAULT_POOL, "task_container_defaults": {"cpu_pod_spec": cpu_spec}}
    ]
    if contract.nodes.gpu_enabled:
        pools.append(
            {
                "pool_name": GPU_POOL,
                "task_container_defaults": {
                    "cpu_pod_spec": cpu_spec,
                    "gpu_pod_spec": task_pod_spec(contract.shared_fs, contract.nodes),
                },
            }
        )
    return pools


AUTH_SECRET = "mldm-auth"
"""Secret (``default``) with MLDM's root token and pachd's OAuth client secret."""
ROOT_TOKEN_KEY = "root-token"
PACHD_OAUTH_KEY = "pachd-oauth-client-secret"
CONSOLE_AUTH_SECRET = "mldm-console-auth"
CONSOLE_OAUTH_KEY = "OAUTH_CLIENT_SECRET"
"""Key names the chart reads from ``rootTokenSecretName``, ``oauthClientSecretSecretName`` and
``console.config.oauthClientSecretSecretName`` (templates/pachd/deployment.yaml, chart 2.12)."""


@dataclass(frozen=True)
class MldmAuth:
    """MLDM authentication, on: every secret it needs comes from Secrets we create, so the
    chart generates none (it would generate new ones at every upgrade)."""

    cluster_deployment_id: pulumi.Input[str]
    """pachd's cluster id (stable; pachctl contexts are bound to it)."""


def _sized(size: Size, workload: str) -> dict[str, dict[str, str]]:
    return resources(workload, size).values()


def pachyderm_values(
    contract: TargetContract,
    mlde: MldeSettings,
    *,
    postgres_secret: str,
    admin_password: pulumi.Input[str],
    auth: MldmAuth | None = None,
    size: Size = "standard",
) -> dict[str, Any]:
    """Values for the ``pachyderm`` release in ``default``.

    ``postgres_secret`` names a Secret in ``default`` holding the database password under
    ``POSTGRES_SECRET_KEY``; ``admin_password`` is MLDE's admin (and determined user) password.
    Secrets the chart only takes inline (object-store keys, MLDE's database password) come
    from Pulumi secrets, so the release's values stay encrypted in the Pulumi state.
    """
    store, postgres = contract.object_store, contract.postgres
    mldm_access = contract.storage_access["mldm"]
    mldm_annotations: Mapping[str, pulumi.Input[str]] = dict(
        mldm_access.service_account_annotations
    )
    pachyderm_db, dex_db, determined_db = DATABASES
    master = resources("mlde-master", size)
    host = database_host(postgres)
    values: dict[str, Any] = {
        "deployTarget": _DEPLOY_TARGET[store.kind],
        "pachd": {
            "storage": _storage(store, mldm_access),
            "serviceAccount": {
                "create": True,
                "name": MLDM_SERVICE_ACCOUNT,
                "additionalAnnotations": mldm_annotations,
            },
            "worker": {
                "serviceAccount": {
                    "create": True,
                    "name": WORKER_SERVICE_ACCOUNT,
                    "additionalAnnotations": mldm_annotations,
                }
            },
            # The chart's loki-stack can render a PodSecurityPolicy, an API removed in
            # Kubernetes 1.25; pipeline logs are read from the Kubernetes API instead.
            "lokiDeploy": False,
            "lokiLogging": False,
            "resources": _sized(size, "pachd"),
        },
        "pachw": {"resources": _sized(size, "pachw")},
        "etcd": {"resources": _sized(size, "etcd"), "storageSize": ETCD_STORAGE_SIZE},
        "pgbouncer": {"resources": _sized(size, "pg-bouncer")},
        "console": {"resources": _sized(size, "mldm-console")},
        # Users reach MLDM through the platform's own Service in front of the proxy, which
        # can carry source ranges (the chart's proxy Service cannot).
        "proxy": {
            "enabled": True,
            "service": {"type": "ClusterIP"},
            "resources": _sized(size, "mldm-proxy"),
        },
        "postgresql": {"enabled": False},
        "global": {
            "postgresql": {
                "postgresqlHost": host,
                "postgresqlPort": str(postgres.port),
                "postgresqlDatabase": pachyderm_db,
                "postgresqlUsername": postgres.user,
                "postgresqlExistingSecretName": postgres_secret,
                "postgresqlExistingSecretKey": POSTGRES_SECRET_KEY,
                "identityDatabaseFullNameOverride": dex_db,
                **_postgres_tls(postgres),
            }
        },
        "determined": {
            "enabled": True,
            "detVersion": mlde.version,
            "imageRegistry": "determinedai",
            "enterpriseEdition": False,
            "createNonNamespacedObjects": True,
            "masterPort": MLDE_MASTER.port,
            # The chart's alternative is a LoadBalancer; users come in through mlde-ingress.
            "useNodePortForMaster": True,
            # Checked by the chart at render time: 8+ characters with upper, lower and digit.
            "initialUserPassword": _secret(admin_password),
            "db": {
                "hostAddress": host,
                "port": postgres.port,
                "name": determined_db,
                "user": postgres.user,
                "password": _secret(postgres.password),
                **_determined_tls(postgres),
            },
            "checkpointStorage": _checkpoints(store, contract.storage_access["mlde"]),
            "maxSlotsPerPod": mlde.max_slots_per_pod,
            "taskContainerDefaults": {"cpuImage": mlde.cpu_image, "gpuImage": mlde.gpu_image},
            "resourceManager": {"defaultNamespace": NAMESPACE},
            "defaultAuxResourcePool": DEFAULT_POOL,
            "defaultComputeResourcePool": mlde.compute_pool,
            "resourcePools": _resource_pools(contract),
            "telemetry": {"enabled": False},
            # The chart's own keys for the master's requests and limits
            # (templates/determined/master-deployment.yaml). Its image runs as root and the
            # chart offers no securityContext for it: accepted, MLDE 0.38 is end of life.
            "masterCpuRequest": master.cpu,
            "masterMemRequest": master.memory,
            "masterCpuLimit": master.cpu_limit,
            "masterMemLimit": master.memory_limit,
        },
    }
    if auth is not None:
        values["pachd"].update(
            {
                "activateAuth": True,
                "rootTokenSecretName": AUTH_SECRET,
                "oauthClientSecretSecretName": AUTH_SECRET,
                "clusterDeploymentID": _secret(auth.cluster_deployment_id),
            }
        )
        values["console"]["config"] = {"oauthClientSecretSecretName": CONSOLE_AUTH_SECRET}
    else:
        values["pachd"]["activateAuth"] = False
    # The chart's default mock identity provider logs anyone in with admin/password and makes
    # that user clusterAdmin. Off: users log in with the root token (or an IdP of their own).
    values["oidc"] = {"mockIDP": False}
    if postgres.cloud_sql is not None:
        values["cloudsqlAuthProxy"] = {
            "enabled": True,
            "connectionName": postgres.cloud_sql.connection_name,
            "serviceAccount": postgres.cloud_sql.service_account,
            "privateIp": postgres.cloud_sql.private_ip,
            # The chart sets none; the PDK GCP guide ran the proxy with these.
            # Limits too: every platform workload we size has both (tests/test_hardening.py).
            "resources": {
                "requests": {"cpu": "250m", "memory": "500Mi"},
                "limits": {"cpu": "1", "memory": "1Gi"},
            },
        }
    return values
