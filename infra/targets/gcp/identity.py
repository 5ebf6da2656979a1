"""Workload Identity: one Google service account per workload, trusted by exactly its
Kubernetes service accounts and granted only its buckets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.contract import (
    GRANTS,
    WORKLOAD_SERVICE_ACCOUNTS,
    ServiceAccountRef,
    StorageAccess,
    Workload,
)
from infra.naming import Naming

GSA_ANNOTATION = "iam.gke.io/gcp-service-account"
"""The annotation that makes GKE hand a pod its Google service account's tokens."""
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
OBJECT_USER = "roles/storage.objectUser"
"""Read, write, list and delete objects; nothing on the bucket itself."""
OBJECT_VIEWER = "roles/storage.objectViewer"
CLOUD_SQL_CLIENT = "roles/cloudsql.client"
SQL_PROXY_ACCOUNT = ServiceAccountRef("default", "k8s-cloudsql-auth-proxy")
"""The Kubernetes service account the Pachyderm chart's Cloud SQL Auth Proxy runs as."""
MLDE_MASTER_ACCOUNT = ServiceAccountRef("default", "determined-master-pachyderm")
"""The MLDE master's account: the chart names it ``determined-master-<release>`` (the PDK
guide bound ``determined-master-determinedai``, which no pod uses). The master downloads
checkpoints itself when a client cannot reach the bucket."""


def workload_member(project: str, account: ServiceAccountRef) -> str:
    """The IAM member a Kubernetes service account is in the project's workload pool."""
    return f"serviceAccount:{project}.svc.id.goog[{account.namespace}/{account.name}]"


def principal_member(project: str, project_number: str, account: ServiceAccountRef) -> str:
    """The same Kubernetes service account as a federated principal: granted directly, with no
    Google service account and no annotation (for accounts a chart creates without one)."""
    return (
        f"principal://iam.googleapis.com/projects/{project_number}/locations/global/"
        f"workloadIdentityPools/{project}.svc.id.goog/subject/ns/{account.namespace}/"
        f"sa/{account.name}"
    )


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    naming: Naming
    """The stack's naming rules; account ids are ``pdk-<deployment id>-<workload>``."""
    project: str
    buckets: Mapping[str, pulumi.Output[str]]
    """Bucket name by bucket role."""
    after: Sequence[pulumi.Resource] = ()
    """What every resource here waits for (the APIs, and the cluster: the workload pool
    exists once a cluster with Workload Identity does)."""


class WorkloadIdentities(pulumi.ComponentResource):
    """A Google service account per workload in ``GRANTS`` plus the Cloud SQL proxy's.

    Each is bound ``roles/iam.workloadIdentityUser`` for exactly
    ``WORKLOAD_SERVICE_ACCOUNTS[workload]`` and holds bucket-level roles only (no project-wide
    storage role). The proxy's account holds ``roles/cloudsql.client``. The MLDE master reads
    the checkpoint bucket as a federated principal.
    """

    access: dict[Workload, StorageAccess]
    sql_proxy_email: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:gcp:WorkloadIdentities", name, None, opts)
        project = args.project
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))
        self.access = {}
        for workload, grant in GRANTS.items():
            account = self._account(
                f"{name}-{workload}", workload, WORKLOAD_SERVICE_ACCOUNTS[workload], args, child
            )
            for bucket in grant.buckets:
                gcp.storage.BucketIAMMember(
                    f"{name}-{workload}-{bucket}",
                    bucket=args.buckets[bucket],
                    role=OBJECT_USER if grant.write else OBJECT_VIEWER,
                    member=account.member,
                    opts=child,
                )
            self.access[workload] = StorageAccess(
                service_account_annotations={GSA_ANNOTATION: account.email}
            )
        proxy = self._account(f"{name}-sqlproxy", "sqlproxy", (SQL_PROXY_ACCOUNT,), args, child)
        gcp.projects.IAMMember(
            f"{name}-sqlproxy-client",
            project=project,
            role=CLOUD_SQL_CLIENT,
            member=proxy.member,
            opts=child,
        )
        self.sql_proxy_email = proxy.email
        number = gcp.organizations.get_project_output(
            project_id=project, opts=pulumi.InvokeOutputOptions(parent=self)
        ).number
        gcp.storage.BucketIAMMember(
            f"{name}-mlde-master-mlde-checkpoints",
            bucket=args.buckets["mlde-checkpoints"],
            role=OBJECT_VIEWER,
            member=number.apply(lambda n: principal_member(project, n, MLDE_MASTER_ACCOUNT)),
            opts=child,
        )
        self.register_outputs(
            {
                **{
                    w: a.service_account_annotations[GSA_ANNOTATION] for w, a in self.access.items()
                },
                "sqlproxy": proxy.email,
            }
        )

    def _account(
        self,
        name: str,
        role: str,
        accounts: Sequence[ServiceAccountRef],
        args: WorkloadIdentityArgs,
        child: pulumi.ResourceOptions,
    ) -> gcp.serviceaccount.Account:
        account = gcp.serviceaccount.Account(
            name,
            account_id=args.naming.cloud_name(role, max_length=30),
            display_name=f"PDK {role}",
            opts=child,
        )
        for ref in accounts:
            gcp.serviceaccount.IAMMember(
                f"{name}-wi-{ref.namespace}-{ref.name}",
                service_account_id=account.name,
                role=WORKLOAD_IDENTITY_USER,
                member=workload_member(args.project, ref),
                opts=child,
            )
        return account
