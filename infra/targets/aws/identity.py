"""IRSA roles of the platform's workloads, each scoped to the buckets it needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from infra.contract import GRANTS, WORKLOAD_SERVICE_ACCOUNTS, StorageAccess, Workload
from infra.naming import Naming
from infra.targets.aws.iam import ROLE_ARN_ANNOTATION, Oidc, document, service_account_role

READ = ("s3:GetObject",)
WRITE = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")


def bucket_policy(bucket_arns: Sequence[str], write: bool) -> str:
    """List and read (and, with ``write``, change) objects of exactly these buckets."""
    return document(
        [
            {
                "Sid": "ListBuckets",
                "Effect": "Allow",
                "Action": [
                    "s3:ListBucket",
                    "s3:GetBucketLocation",
                    "s3:ListBucketMultipartUploads",
                ],
                "Resource": sorted(bucket_arns),
            },
            {
                "Sid": "WriteObjects" if write else "ReadObjects",
                "Effect": "Allow",
                "Action": list(WRITE if write else READ),
                "Resource": sorted(f"{arn}/*" for arn in bucket_arns),
            },
        ]
    )


def _policy(arns: Sequence[pulumi.Output[str]], write: bool) -> pulumi.Output[str]:
    return pulumi.Output.all(*arns).apply(lambda resolved: bucket_policy(resolved, write))


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    naming: Naming
    oidc: Oidc
    bucket_arns: Mapping[str, pulumi.Output[str]]
    """Bucket ARN by bucket role."""
    tags: Mapping[str, str]


class WorkloadIdentities(pulumi.ComponentResource):
    """One role per workload, trusted by exactly ``WORKLOAD_SERVICE_ACCOUNTS[workload]``."""

    access: dict[Workload, StorageAccess]

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:target:WorkloadIdentities", name, None, opts)
        self.access = {}
        for workload, grant in GRANTS.items():
            arns = [args.bucket_arns[bucket] for bucket in grant.buckets]
            role = service_account_role(
                f"{name}-{workload}",
                name=args.naming.cloud_name(workload, max_length=64),
                oidc=args.oidc,
                accounts=WORKLOAD_SERVICE_ACCOUNTS[workload],
                tags=args.tags,
                inline_policy=_policy(arns, grant.write),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.access[workload] = StorageAccess(
                service_account_annotations={ROLE_ARN_ANNOTATION: role.arn}
            )
        self.register_outputs(
            {w: a.service_account_annotations[ROLE_ARN_ANNOTATION] for w, a in self.access.items()}
        )
