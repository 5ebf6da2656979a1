"""RDS PostgreSQL: private, encrypted, reachable only from the cluster's nodes, with a
certificate its clients verify against the region's RDS CA."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from infra.contract import DATABASES, Postgres
from infra.naming import Naming
from infra.targets.aws.network import Admit, single_port_group
from infra.targets.aws.rds_ca import CA_IDENTIFIER, rds_ca
from infra.targets.common.databases import create_databases_job

PORT = 5432
USER = "pdk"


@dataclass(frozen=True)
class RdsPostgresArgs:
    naming: Naming
    """The stack's naming rules: protected, deletion-protected and snapshotted on delete
    unless ephemeral."""
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets of the subnet group."""
    client_security_group_id: pulumi.Input[str]
    """The only security group admitted to the database port (the cluster's)."""
    instance_class: str
    engine_version: str
    storage_gib: int
    multi_az: bool
    tags: Mapping[str, str]
    namespace: pulumi.Input[str]
    """Namespace of the password Secret and the database-creating Job."""
    client_image: str
    """Pinned Postgres image whose psql the Job runs."""
    region: str
    """Region of the instance, which selects the CA its certificate chains to."""
    kubernetes: pulumi.ResourceOptions
    """Options for the Kubernetes objects (provider, what to wait for)."""


class RdsPostgres(pulumi.ComponentResource):
    """The database server, and the Job that creates the PDK databases in it."""

    postgres: Postgres

    def __init__(
        self, name: str, args: RdsPostgresArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:target:RdsPostgres", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        group = single_port_group(
            f"{name}-access",
            f"{name}-from-cluster",
            name=naming.cloud_name("postgres", max_length=255),
            description="Postgres from the EKS cluster only",
            vpc_id=args.vpc_id,
            port=PORT,
            admit=Admit(
                "Postgres from the EKS cluster's security group",
                source_group_id=args.client_security_group_id,
            ),
            tags=tags,
            opts=child,
        )
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=naming.cloud_name("postgres", max_length=255),
            subnet_ids=list(args.subnet_ids),
            tags=tags,
            opts=child,
        )
        # RDS PostgreSQL 15+ refuses connections without TLS by default (rds.force_ssl=1). The
        # Pachyderm chart 2.12 gives pachw no TLS setting (it connects with sslmode=disable), so
        # this group allows non-TLS connections; every client the stack configures otherwise
        # uses TLS (verify-full, or require for pachd's direct connection), and the security
        # group admits the cluster only.
        parameters = aws.rds.ParameterGroup(
            f"{name}-parameters",
            name=naming.cloud_name("postgres", max_length=255),
            family=f"postgres{args.engine_version}",
            description="PDK Postgres: TLS not forced (pachw cannot use it)",
            parameters=[aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="0")],
            tags=tags,
            opts=child,
        )
        ca = rds_ca(args.region)
        # RDS rejects '/', '@', '"' and spaces in master passwords; letters and digits only.
        password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child)
        identifier = naming.cloud_name("postgres")
        instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=identifier,
            engine="postgres",
            engine_version=args.engine_version,
            instance_class=args.instance_class,
            allocated_storage=args.storage_gib,
            storage_type="gp3",
            storage_encrypted=True,
            username=USER,
            password=password.result,
            port=PORT,
            db_subnet_group_name=subnets.name,
            parameter_group_name=parameters.name,
            ca_cert_identifier=CA_IDENTIFIER,
            vpc_security_group_ids=[group.id],
            publicly_accessible=False,
            multi_az=args.multi_az,
            auto_minor_version_upgrade=True,
            backup_retention_period=1 if naming.ephemeral else 7,
            copy_tags_to_snapshot=True,
            deletion_protection=not naming.ephemeral,
            skip_final_snapshot=naming.ephemeral,
            final_snapshot_identifier=None if naming.ephemeral else f"{identifier}-final",
            tags=tags,
            opts=naming.stateful(child),
        )
        kubernetes = pulumi.ResourceOptions.merge(
            args.kubernetes, pulumi.ResourceOptions(parent=self)
        )
        labels = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/component": "database"}
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=naming.metadata("postgres-credentials", args.namespace, labels),
            type="Opaque",
            string_data={"username": USER, "password": password.result},
            opts=kubernetes,
        )
        job = create_databases_job(
            f"{name}-databases",
            naming=naming,
            namespace=args.namespace,
            labels=labels,
            image=args.client_image,
            host=instance.address,
            port=PORT,
            user=USER,
            password_secret=secret.metadata.name,
            sslmode="verify-full",
            ca=ca,
            opts=pulumi.ResourceOptions.merge(
                kubernetes, pulumi.ResourceOptions(depends_on=[instance])
            ),
        )
        self.postgres = Postgres(
            host=instance.address,
            port=PORT,
            user=USER,
            password=password.result,
            databases=DATABASES,
            ready=[job],
            sslmode="verify-full",
            ca=ca,
        )
        self.register_outputs({"host": instance.address, "port": PORT, "user": USER})
