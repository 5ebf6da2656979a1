"""Postgres 13 inside the cluster, for targets without a managed database."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from infra.contract import DATABASES, Postgres
from infra.naming import Naming
from infra.targets.common.pods import restricted_container, secret_env

PORT = 5432
USER = "pdk"
DATA_MOUNT = "/var/lib/postgresql/data"
PGDATA = f"{DATA_MOUNT}/pgdata"
"""PGDATA sits one level below the volume's mount point: initdb refuses a non-empty directory,
and fresh volumes often carry ``lost+found``. The guides mounted the volume beside PGDATA, so
the data lived in the container and vanished with the pod."""

_CREATE_DATABASES = """\
set -eu
until pg_isready --quiet; do echo "waiting for postgres at $PGHOST:$PGPORT"; sleep 2; done
for db in {databases}; do
  if psql --dbname=postgres --tuples-only --no-align \\
      --command="SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    echo "database $db already exists"
  else
    psql --dbname=postgres --command="CREATE DATABASE \\"$db\\""
    echo "database $db created"
  fi
done
"""


@dataclass(frozen=True)
class InClusterPostgresArgs:
    naming: Naming
    """The stack's naming rules."""
    namespace: pulumi.Input[str]
    """Namespace for the server, its Service and Secret."""
    image: str
    """Pinned Postgres 13 image."""
    storage_size: str
    """Data volume size (a Kubernetes quantity)."""
    storage_class: str
    """StorageClass of the data volume; empty for the cluster default."""


class InClusterPostgres(pulumi.ComponentResource):
    """A single-replica Postgres StatefulSet with a generated password and the PDK databases.

    ``postgres`` is the contract view; its ``ready`` lists the Job after which the databases
    exist. The Job checks before creating, so re-running it on any change is harmless.
    """

    postgres: Postgres

    def __init__(
        self, name: str, args: InClusterPostgresArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:target:InClusterPostgres", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self)
        labels = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/component": "database"}

        password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child)
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=naming.metadata("postgres-credentials", args.namespace, labels),
            type="Opaque",
            string_data={"username": USER, "password": password.result},
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=naming.metadata("postgres", args.namespace, labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=labels,
                ports=[k8s.core.v1.ServicePortArgs(name="postgres", port=PORT, target_port=PORT)],
            ),
            opts=child,
        )
        probe = k8s.core.v1.ProbeArgs(
            exec_=k8s.core.v1.ExecActionArgs(command=["pg_isready", "-U", USER, "-d", "postgres"]),
            period_seconds=10,
            failure_threshold=6,
        )
        # Deleting the StatefulSet must not take the data with it, unless the stack is throwaway.
        retention = "Delete" if naming.ephemeral else "Retain"
        statefulset = k8s.apps.v1.StatefulSet(
            f"{name}-server",
            metadata=naming.metadata("postgres", args.namespace, labels),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                service_name=service.metadata.name,
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                persistent_volume_claim_retention_policy=(
                    k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                        when_deleted=retention, when_scaled=retention
                    )
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={**naming.labels, **labels}),
                    spec=k8s.core.v1.PodSpecArgs(
                        # 999 is the postgres user of the official image; fsGroup makes the
                        # volume writable for it without running the entrypoint as root.
                        security_context=k8s.core.v1.PodSecurityContextArgs(
                            run_as_user=999, run_as_group=999, fs_group=999, run_as_non_root=True
                        ),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="postgres",
                                image=args.image,
                                ports=[
                                    k8s.core.v1.ContainerPortArgs(
                                        name="postgres", container_port=PORT
                                    )
                                ],
                                env=[
                                    k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=USER),
                                    secret_env(
                                        "POSTGRES_PASSWORD", secret.metadata.name, "password"
                                    ),
                                    k8s.core.v1.EnvVarArgs(name="PGDATA", value=PGDATA),
                                ],
                                volume_mounts=[
                                    k8s.core.v1.VolumeMountArgs(name="data", mount_path=DATA_MOUNT)
                                ],
                                readiness_probe=probe,
                                liveness_probe=probe,
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "250m", "memory": "512Mi"},
                                    limits={"memory": "2Gi"},
                                ),
                                security_context=restricted_container(),
                            )
                        ],
                    ),
                ),
                volume_claim_templates=[
                    k8s.core.v1.PersistentVolumeClaimArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(name="data", labels=naming.labels),
                        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                            access_modes=["ReadWriteOnce"],
                            storage_class_name=args.storage_class or None,
                            resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                                requests={"storage": args.storage_size}
                            ),
                        ),
                    )
                ],
            ),
            opts=naming.stateful(child),
        )
        host = pulumi.Output.concat(
            service.metadata.name, ".", service.metadata.namespace, ".svc.cluster.local"
        )
        databases_job = k8s.batch.v1.Job(
            f"{name}-databases",
            metadata=naming.metadata(
                None, args.namespace, {**labels, "app.kubernetes.io/component": "setup"}
            ),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=6,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=naming.labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="OnFailure",
                        security_context=k8s.core.v1.PodSecurityContextArgs(
                            run_as_user=999, run_as_group=999, run_as_non_root=True
                        ),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="create-databases",
                                image=args.image,
                                command=["/bin/sh", "-c"],
                                args=[_CREATE_DATABASES.format(databases=" ".join(DATABASES))],
                                env=[
                                    k8s.core.v1.EnvVarArgs(name="PGHOST", value=host),
                                    k8s.core.v1.EnvVarArgs(name="PGPORT", value=str(PORT)),
                                    k8s.core.v1.EnvVarArgs(name="PGUSER", value=USER),
                                    secret_env("PGPASSWORD", secret.metadata.name, "password"),
                                ],
                                security_context=restricted_container(),
                            )
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[statefulset]),
        )
        self.postgres = Postgres(
            host=host,
            port=PORT,
            user=USER,
            password=password.result,
            databases=DATABASES,
            ready=[databases_job],
        )
        self.register_outputs({"host": host, "port": PORT, "user": USER})
