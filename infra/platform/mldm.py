"""MLDM (Pachyderm) and MLDE (Determined) from one Pachyderm Helm release, and the Service
users reach MLDM through."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from infra import charts
from infra.contract import DATABASE_CA_CONFIG_MAP, DATABASE_CA_KEY, TargetContract
from infra.naming import Naming
from infra.platform.endpoints import Endpoint
from infra.platform.values import (
    AUTH_SECRET,
    CONSOLE_AUTH_SECRET,
    CONSOLE_OAUTH_KEY,
    ETCD_CLAIM,
    ETCD_STORAGE_SIZE,
    NAMESPACE,
    PACHD_OAUTH_KEY,
    POSTGRES_SECRET_KEY,
    RELEASE,
    ROOT_TOKEN_KEY,
    TASK_SERVICE_ACCOUNT,
    MldeSettings,
    MldmAuth,
    pachyderm_values,
)
from infra.sizing import Size

ADMIN_USER = "admin"
"""MLDE's built-in administrator; ``initialUserPassword`` sets its password (and determined's)."""
POSTGRES_SECRET = "mldm-postgres"
PROXY_SERVICE = "mldm-proxy"
_PROXY_SELECTOR = {"app": "pachyderm-proxy", "suite": "pachyderm"}
"""Labels of the chart's proxy pods (templates/proxy/deployment.yaml)."""


@dataclass(frozen=True)
class MldmArgs:
    naming: Naming
    """The stack's naming rules."""
    contract: TargetContract
    """Buckets, database, identities, shared filesystem and node placement."""
    chart_version: str
    """Version of the pachyderm chart."""
    mlde: MldeSettings
    """MLDE version, images and pools."""
    size: Size = "standard"
    """``platformSize``: requests and limits of MLDM's and MLDE's workloads."""


class Mldm(pulumi.ComponentResource):
    """The Pachyderm release with MLDE enabled, its secrets and service accounts, and the
    ``mldm-proxy`` Service the edge gateway sends MLDM traffic to."""

    release: k8s.helm.v3.Release
    admin_password: pulumi.Output[str]
    root_token: pulumi.Output[str]
    """MLDM's root token (a Pulumi secret), for pipeline-secret and the flow."""
    proxy: Endpoint

    def __init__(self, name: str, args: MldmArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:platform:Mldm", name, None, opts)
        naming, contract = args.naming, args.contract
        child = pulumi.ResourceOptions(parent=self)
        labels = {"app.kubernetes.io/component": "mldm"}

        # MLDE 0.38 requires upper, lower and digit; asking for them now keeps upgrades easy.
        password = random.RandomPassword(
            f"{name}-mlde-admin-password",
            length=24,
            special=False,
            min_upper=2,
            min_lower=2,
            min_numeric=2,
            opts=child,
        )
        self.admin_password = password.result

        # MLDM auth (chart 2.12 no longer needs an Enterprise licence for it): the root token
        # and the OAuth client secrets are generated here, so they stay the same across
        # upgrades and the root token can reach pipeline-secret and the flow.
        def generated(role: str, length: int) -> pulumi.Output[str]:
            return random.RandomPassword(
                f"{name}-{role}", length=length, special=False, opts=child
            ).result

        self.root_token = generated("root-token", 40)
        auth_secret = k8s.core.v1.Secret(
            f"{name}-auth",
            metadata=naming.metadata(AUTH_SECRET, NAMESPACE, labels),
            type="Opaque",
            string_data={
                ROOT_TOKEN_KEY: self.root_token,
                PACHD_OAUTH_KEY: generated("pachd-oauth-secret", 32),
            },
            opts=child,
        )
        console_secret = k8s.core.v1.Secret(
            f"{name}-console-auth",
            metadata=naming.metadata(CONSOLE_AUTH_SECRET, NAMESPACE, labels),
            type="Opaque",
            string_data={CONSOLE_OAUTH_KEY: generated("console-oauth-secret", 32)},
            opts=child,
        )
        auth = MldmAuth(cluster_deployment_id=generated("cluster-id", 32))
        postgres_secret = k8s.core.v1.Secret(
            f"{name}-postgres",
            metadata=naming.metadata(POSTGRES_SECRET, NAMESPACE, labels),
            type="Opaque",
            string_data={POSTGRES_SECRET_KEY: contract.postgres.password},
            opts=child,
        )
        if contract.postgres.ca is not None and contract.postgres.cloud_sql is None:
            # The MLDE master reads the database's CA from this ConfigMap (db.certResourceName).
            k8s.core.v1.ConfigMap(
                f"{name}-postgres-ca",
                metadata=naming.metadata(DATABASE_CA_CONFIG_MAP, NAMESPACE, labels),
                data={DATABASE_CA_KEY: contract.postgres.ca.pem},
                opts=child,
            )
        task_accounts = [
            k8s.core.v1.ServiceAccount(
                f"{name}-tasks-{namespace}",
                metadata=naming.metadata(
                    TASK_SERVICE_ACCOUNT,
                    namespace,
                    {"app.kubernetes.io/component": "mlde"},
                    contract.storage_access["mlde"].service_account_annotations or None,
                ),
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=list(contract.namespaces.values())
                ),
            )
            for namespace in contract.shared_fs.namespaces
        ]
        # etcd's volume, declared so that `pulumi destroy` deletes it (protected unless the
        # stack is ephemeral, like every volume); the chart's StatefulSet adopts it by name.
        etcd_claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-etcd-storage",
            metadata=naming.metadata(
                ETCD_CLAIM, NAMESPACE, {"app": "etcd", "suite": "pachyderm", **labels}
            ),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteOnce"],
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                    requests={"storage": ETCD_STORAGE_SIZE}
                ),
            ),
            opts=naming.stateful(
                pulumi.ResourceOptions(parent=self, depends_on=list(contract.ready))
            ),
        )
        self.release = charts.release(
            f"{name}-release",
            chart=charts.PACHYDERM,
            version=args.chart_version,
            release_name=RELEASE,
            namespace=NAMESPACE,
            values=pachyderm_values(
                contract,
                args.mlde,
                postgres_secret=POSTGRES_SECRET,
                admin_password=password.result,
                auth=auth,
                size=args.size,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    *contract.ready,
                    *contract.postgres.ready,
                    postgres_secret,
                    auth_secret,
                    console_secret,
                    etcd_claim,
                    *task_accounts,
                    *contract.namespaces.values(),
                ],
            ),
        )
        self.proxy_service = proxy_service = k8s.core.v1.Service(
            f"{name}-proxy",
            metadata=naming.metadata(PROXY_SERVICE, NAMESPACE, labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=_PROXY_SELECTOR,
                ports=[
                    # One port carries gRPC, the S3 gateway and the console. h2c tells the
                    # gateway to speak HTTP/2 to it, which gRPC needs (the proxy's Envoy
                    # accepts HTTP/1 and HTTP/2 on it).
                    k8s.core.v1.ServicePortArgs(
                        name="http",
                        port=80,
                        target_port="http-port",
                        app_protocol="kubernetes.io/h2c",
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        self.proxy = Endpoint(NAMESPACE, PROXY_SERVICE, 80, "http")
        self.register_outputs(
            {"release": self.release.name, "proxyService": proxy_service.metadata.name}
        )
