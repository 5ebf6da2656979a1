"""MinIO inside the cluster: the S3 buckets for targets without a cloud object store."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from infra.contract import SecretRef, StorageAccess
from infra.naming import Naming
from infra.sizing import Resources
from infra.targets.common.pods import secret_env, setup_job, single_replica_statefulset

MINIO_LABELS = {"app.kubernetes.io/name": "minio", "app.kubernetes.io/component": "object-store"}
"""The server pods' labels (its setup Job's pods carry the name, component ``setup``)."""
API_PORT = 9000
CONSOLE_PORT = 9001
REGION = "us-east-1"
"""MinIO accepts any region; S3 clients default to this one, so nothing needs configuring."""
ACCESS_KEY_FIELD = "accessKeyId"
SECRET_KEY_FIELD = "secretAccessKey"
MODELS_WRITER = "flow"
"""The grant of the flow's deploy step: write the models bucket, nothing else
(``TargetContract.models_writer``)."""

_READ = ["s3:GetObject"]
_WRITE = [
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
]
_LIST = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]


@dataclass(frozen=True)
class Grant:
    """What one workload may do, and where its keys must be readable."""

    buckets: Sequence[str]
    """Buckets it may use (names, not ARNs)."""
    write: bool
    """True: read and write objects. False: read only."""
    namespaces: Sequence[str]
    """Namespaces in which a Secret with its keys is created."""


def policy_document(grant: Grant) -> str:
    """The MinIO (S3 IAM dialect) policy for a grant: named buckets only, never ``*``."""
    objects = [f"arn:aws:s3:::{bucket}/*" for bucket in grant.buckets]
    statements = [
        {
            "Effect": "Allow",
            "Action": _LIST,
            "Resource": [f"arn:aws:s3:::{bucket}" for bucket in grant.buckets],
        },
        {"Effect": "Allow", "Action": _READ + (_WRITE if grant.write else []), "Resource": objects},
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


_SETUP_HEAD = """\
set -eu
export MC_CONFIG_DIR=/tmp/mc
until mc alias set pdk "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1; do
  echo "waiting for minio at $MINIO_URL"; sleep 2
done
for bucket in $BUCKETS; do mc mb --ignore-existing "pdk/$bucket"; done
"""

# Each workload gets its own user and policy. `policy create` overwrites and `user add` resets
# the secret, so a re-run converges; `policy attach` fails when already attached, hence the check.
# Only shell built-ins and mc, so the script needs nothing else from the minimal mc image.
_SETUP_USER = """\
printf '%s' "$POLICY_{upper}" > /tmp/{workload}-policy.json
mc admin policy create pdk pdk-{workload} /tmp/{workload}-policy.json
mc admin user add pdk "${upper}_ACCESS_KEY" "${upper}_SECRET_KEY"
if ! mc admin policy attach pdk pdk-{workload} --user "${upper}_ACCESS_KEY"; then
  case "$(mc admin user info pdk "${upper}_ACCESS_KEY")" in
    *pdk-{workload}*) echo "policy pdk-{workload} already attached" ;;
    *) exit 1 ;;
  esac
fi
"""


@dataclass(frozen=True)
class MinioObjectStoreArgs:
    naming: Naming
    """The stack's naming rules."""
    namespace: pulumi.Input[str]
    """Namespace for the server, its Service and its root credentials."""
    image: str
    """Pinned MinIO server image."""
    client_image: str
    """Pinned MinIO client (mc) image for the setup Job."""
    storage_size: str
    """Data volume size."""
    storage_class: str
    """StorageClass of the data volume; empty for the cluster default."""
    resources: Resources
    """Requests and limits of the server (``platformSize``)."""
    buckets: Sequence[str]
    """Buckets to create."""
    grants: Mapping[str, Grant]
    """One MinIO user per workload (``infra.contract.Workload``, or ``MODELS_WRITER``), limited
    to its buckets."""
    namespace_resources: Sequence[pulumi.Resource] = ()
    """The namespaces named in ``grants``: their key Secrets wait for them."""


class MinioObjectStore(pulumi.ComponentResource):
    """A single-node MinIO with generated root credentials, buckets and per-workload users.

    The root credentials stay in the MinIO namespace; workloads get their own keys, in a Secret
    named ``<workload>-object-store`` in each namespace of their grant.
    """

    endpoint: pulumi.Output[str]
    access: dict[str, StorageAccess]

    def __init__(
        self, name: str, args: MinioObjectStoreArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:target:MinioObjectStore", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self)
        labels = dict(MINIO_LABELS)

        root_user = random.RandomPassword(
            f"{name}-root-user", length=20, special=False, lower=False, opts=child
        )
        root_password = random.RandomPassword(
            f"{name}-root-password", length=40, special=False, opts=child
        )
        root = k8s.core.v1.Secret(
            f"{name}-root-credentials",
            metadata=naming.metadata("minio-root-credentials", args.namespace, labels),
            type="Opaque",
            string_data={
                "MINIO_ROOT_USER": root_user.result,
                "MINIO_ROOT_PASSWORD": root_password.result,
            },
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=naming.metadata("minio", args.namespace, labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=labels,
                ports=[
                    k8s.core.v1.ServicePortArgs(name="api", port=API_PORT, target_port=API_PORT),
                    k8s.core.v1.ServicePortArgs(
                        name="console", port=CONSOLE_PORT, target_port=CONSOLE_PORT
                    ),
                ],
            ),
            opts=child,
        )
        server = single_replica_statefulset(
            f"{name}-server",
            naming=naming,
            name="minio",
            namespace=args.namespace,
            labels=labels,
            service_name=service.metadata.name,
            run_as=1000,
            data_mount="/data",
            storage_size=args.storage_size,
            storage_class=args.storage_class,
            container={
                "name": "minio",
                "image": args.image,
                # Non-root: the default certs dir under $HOME is not writable.
                "args": [
                    "server",
                    "/data",
                    "--console-address",
                    f":{CONSOLE_PORT}",
                    "--certs-dir",
                    "/tmp/certs",
                ],
                "env_from": [
                    k8s.core.v1.EnvFromSourceArgs(
                        secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=root.metadata.name)
                    )
                ],
                "ports": [
                    k8s.core.v1.ContainerPortArgs(name="api", container_port=API_PORT),
                    k8s.core.v1.ContainerPortArgs(name="console", container_port=CONSOLE_PORT),
                ],
                "readiness_probe": k8s.core.v1.ProbeArgs(
                    http_get=k8s.core.v1.HTTPGetActionArgs(
                        path="/minio/health/ready", port=API_PORT
                    ),
                    period_seconds=10,
                ),
                "liveness_probe": k8s.core.v1.ProbeArgs(
                    http_get=k8s.core.v1.HTTPGetActionArgs(
                        path="/minio/health/live", port=API_PORT
                    ),
                    period_seconds=20,
                ),
                "resources": args.resources.args(),
            },
            opts=child,
        )
        self.endpoint = pulumi.Output.concat(
            "http://",
            service.metadata.name,
            ".",
            service.metadata.namespace,
            f".svc.cluster.local:{API_PORT}",
        )

        keys: dict[str, tuple[random.RandomPassword, random.RandomPassword]] = {
            workload: (
                random.RandomPassword(
                    f"{name}-{workload}-access-key",
                    length=20,
                    special=False,
                    lower=False,
                    opts=child,
                ),
                random.RandomPassword(
                    f"{name}-{workload}-secret-key", length=40, special=False, opts=child
                ),
            )
            for workload in args.grants
        }
        workload_keys = k8s.core.v1.Secret(
            f"{name}-workload-keys",
            metadata=naming.metadata("minio-workload-keys", args.namespace, labels),
            type="Opaque",
            string_data={
                f"{workload.upper()}_{kind}_KEY": key.result
                for workload, pair in keys.items()
                for kind, key in zip(("ACCESS", "SECRET"), pair, strict=True)
            },
            opts=child,
        )
        script = _SETUP_HEAD + "".join(
            _SETUP_USER.format(workload=workload, upper=workload.upper())
            for workload in args.grants
        )
        env = [
            k8s.core.v1.EnvVarArgs(name="MINIO_URL", value=self.endpoint),
            k8s.core.v1.EnvVarArgs(name="BUCKETS", value=" ".join(args.buckets)),
            secret_env("MINIO_ROOT_USER", root.metadata.name, "MINIO_ROOT_USER"),
            secret_env("MINIO_ROOT_PASSWORD", root.metadata.name, "MINIO_ROOT_PASSWORD"),
        ]
        for workload, grant in args.grants.items():
            upper = workload.upper()
            env.append(k8s.core.v1.EnvVarArgs(name=f"POLICY_{upper}", value=policy_document(grant)))
            for kind in ("ACCESS", "SECRET"):
                env.append(
                    secret_env(
                        f"{upper}_{kind}_KEY", workload_keys.metadata.name, f"{upper}_{kind}_KEY"
                    )
                )
        setup = setup_job(
            f"{name}-setup",
            naming=naming,
            namespace=args.namespace,
            labels=labels,
            run_as=1000,
            container_name="setup",
            image=args.client_image,
            script=script,
            env=env,
            scratch="/tmp",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[server]),
        )
        self.setup = setup

        self.access = {}
        for workload, grant in args.grants.items():
            access_key, secret_key = keys[workload]
            secret_name = f"{workload}-object-store"
            for namespace in grant.namespaces:
                k8s.core.v1.Secret(
                    f"{name}-{workload}-keys-{namespace}",
                    metadata=naming.metadata(secret_name, namespace, labels),
                    type="Opaque",
                    string_data={
                        ACCESS_KEY_FIELD: access_key.result,
                        SECRET_KEY_FIELD: secret_key.result,
                    },
                    opts=pulumi.ResourceOptions(
                        parent=self, depends_on=list(args.namespace_resources)
                    ),
                )
            home = grant.namespaces[0]
            self.access[workload] = StorageAccess(
                access_key_id=SecretRef(home, secret_name, ACCESS_KEY_FIELD),
                secret_access_key=SecretRef(home, secret_name, SECRET_KEY_FIELD),
                access_key_id_value=access_key.result,
                secret_access_key_value=secret_key.result,
            )
        self.register_outputs({"endpoint": self.endpoint, "buckets": list(args.buckets)})
