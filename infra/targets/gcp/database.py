"""Cloud SQL for PostgreSQL: private IP only, TLS only, reached through the Cloud SQL Auth
Proxy that the Pachyderm chart runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from infra.contract import DATABASES, CloudSqlProxy, Postgres
from infra.naming import Naming

PORT = 5432
USER = "pdk"


@dataclass(frozen=True)
class CloudSqlArgs:
    naming: Naming
    """The stack's naming rules: protected, deletion-protected and backed up on delete unless
    ephemeral."""
    region: str
    zone: str
    """Preferred zone of the primary (next to the nodes)."""
    network: pulumi.Input[str]
    """The VPC whose Private Service Access gives the instance its address."""
    allocated_range: pulumi.Input[str] | None
    """The reserved PSA range to take the address from; None: any of the network's."""
    database_version: str
    """``POSTGRES_<major>``."""
    tier: str
    """Machine tier, e.g. db-custom-2-7680 (2 vCPU, 7.5 GB)."""
    edition: str
    """ENTERPRISE or ENTERPRISE_PLUS; set explicitly because PostgreSQL 16+ defaults to
    ENTERPRISE_PLUS, which rejects custom tiers."""
    disk_size: int
    """Initial SSD size in GB; it grows automatically."""
    high_availability: bool
    """REGIONAL availability (a standby in another zone) instead of ZONAL."""
    proxy_service_account: pulumi.Input[str]
    """E-mail of the Google service account the Auth Proxy runs as."""
    labels: Mapping[str, str]
    """GCP labels of the instance."""
    after: Sequence[pulumi.Resource] = ()
    """What the instance waits for: the APIs and the PSA connection."""


class CloudSqlPostgres(pulumi.ComponentResource):
    """The instance, a user with a generated password, and ``DATABASES``.

    No public IP, ``ENCRYPTED_ONLY`` connections, daily backups with point-in-time recovery.
    The name carries a random suffix because Cloud SQL reserves a deleted instance's name for
    up to a week, which would block re-creating a stack.
    """

    postgres: Postgres
    connection_name: pulumi.Output[str]

    def __init__(self, name: str, args: CloudSqlArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:gcp:CloudSqlPostgres", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self)
        suffix = random.RandomId(f"{name}-suffix", byte_length=3, opts=child)
        password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child)
        instance = gcp.sql.DatabaseInstance(
            f"{name}-instance",
            name=pulumi.Output.concat(naming.cloud_name("pg", max_length=90), "-", suffix.hex),
            database_version=args.database_version,
            region=args.region,
            # pulumi-gcp's guard; settings.deletion_protection_enabled is the API's own.
            deletion_protection=not naming.ephemeral,
            settings=gcp.sql.DatabaseInstanceSettingsArgs(
                tier=args.tier,
                edition=args.edition,
                availability_type="REGIONAL" if args.high_availability else "ZONAL",
                location_preference=gcp.sql.DatabaseInstanceSettingsLocationPreferenceArgs(
                    zone=args.zone
                ),
                disk_type="PD_SSD",
                disk_size=args.disk_size,
                disk_autoresize=True,
                deletion_protection_enabled=not naming.ephemeral,
                ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=False,
                    private_network=args.network,
                    allocated_ip_range=args.allocated_range,
                    # TLS without client certificates (the proxy brings its own).
                    ssl_mode="ENCRYPTED_ONLY",
                ),
                backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=True,
                    point_in_time_recovery_enabled=True,
                    start_time="03:00",
                    transaction_log_retention_days=7,
                    backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                        retained_backups=1 if naming.ephemeral else 7, retention_unit="COUNT"
                    ),
                ),
                final_backup_config=gcp.sql.DatabaseInstanceSettingsFinalBackupConfigArgs(
                    enabled=not naming.ephemeral, retention_days=30
                ),
                maintenance_window=gcp.sql.DatabaseInstanceSettingsMaintenanceWindowArgs(
                    day=7, hour=3, update_track="stable"
                ),
                user_labels=dict(args.labels),
            ),
            opts=naming.stateful(pulumi.ResourceOptions(parent=self, depends_on=list(args.after))),
        )
        # ABANDON: Postgres refuses to drop a user that owns objects, and the API cannot drop
        # it either; both go with the instance (sql.User docstring).
        user = gcp.sql.User(
            f"{name}-user",
            instance=instance.name,
            name=USER,
            password=password.result,
            deletion_policy="ABANDON",
            opts=child,
        )
        databases = [
            gcp.sql.Database(
                f"{name}-db-{database}",
                instance=instance.name,
                name=database,
                deletion_policy="ABANDON",
                opts=child,
            )
            for database in DATABASES
        ]
        self.connection_name = instance.connection_name
        self.postgres = Postgres(
            host=instance.private_ip_address,
            port=PORT,
            user=USER,
            password=password.result,
            databases=DATABASES,
            ready=[user, *databases],
            # Clients talk to the in-cluster Auth Proxy, which speaks plain Postgres and carries
            # the connection to the instance over TLS itself.
            sslmode="disable",
            cloud_sql=CloudSqlProxy(
                connection_name=instance.connection_name,
                service_account=args.proxy_service_account,
            ),
        )
        self.register_outputs(
            {"connectionName": instance.connection_name, "port": PORT, "user": USER}
        )
