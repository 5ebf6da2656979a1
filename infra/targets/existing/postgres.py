"""Postgres (16 by default) inside the cluster, for targets without a managed database."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from infra.contract import DATABASES, Postgres
from infra.naming import Naming
from infra.sizing import Resources
from infra.targets.common.databases import POSTGRES_UID, create_databases_job
from infra.targets.common.pods import secret_env, single_replica_statefulset

POSTGRES_LABELS = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/component": "database"}
"""The server pods' labels (its setup Job's pods carry the name, component ``setup``)."""
PORT = 5432
USER = "pdk"
DATA_MOUNT = "/var/lib/postgresql/data"
PGDATA = f"{DATA_MOUNT}/pgdata"
"""PGDATA sits one level below the volume's mount point: initdb refuses a non-empty directory,
and fresh volumes often carry ``lost+found``. The guides mounted the volume beside PGDATA, so
the data lived in the container and vanished with the pod."""


@dataclass(frozen=True)
class InClusterPostgresArgs:
    naming: Naming
    """The stack's naming rules."""
    namespace: pulumi.Input[str]
    """Namespace for the server, its Service and Secret."""
    image: str
    """Pinned Postgres image (the postgresImage key; 16 by default)."""
    storage_size: str
    """Data volume size (a Kubernetes quantity)."""
    storage_class: str
    """StorageClass of the data volume; empty for the cluster default."""
    resources: Resources
    """Requests and limits of the server (``platformSize``)."""


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
        labels = dict(POSTGRES_LABELS)

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
        statefulset = single_replica_statefulset(
            f"{name}-server",
            naming=naming,
            name="postgres",
            namespace=args.namespace,
            labels=labels,
            service_name=service.metadata.name,
            run_as=POSTGRES_UID,
            data_mount=DATA_MOUNT,
            storage_size=args.storage_size,
            storage_class=args.storage_class,
            container={
                "name": "postgres",
                "image": args.image,
                "ports": [k8s.core.v1.ContainerPortArgs(name="postgres", container_port=PORT)],
                "env": [
                    k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=USER),
                    secret_env("POSTGRES_PASSWORD", secret.metadata.name, "password"),
                    k8s.core.v1.EnvVarArgs(name="PGDATA", value=PGDATA),
                ],
                "readiness_probe": probe,
                "liveness_probe": probe,
                "resources": args.resources.args(),
            },
            opts=child,
        )
        host = pulumi.Output.concat(
            service.metadata.name, ".", service.metadata.namespace, ".svc.cluster.local"
        )
        databases_job = create_databases_job(
            f"{name}-databases",
            naming=naming,
            namespace=args.namespace,
            labels=labels,
            image=args.image,
            host=host,
            port=PORT,
            user=USER,
            password_secret=secret.metadata.name,
            sslmode="disable",
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
