"""S3 buckets and the default EBS StorageClass."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.naming import Naming

GP3_CLASS = "gp3"


@dataclass(frozen=True)
class BucketsArgs:
    naming: Naming
    """The stack's naming rules; an ephemeral stack's buckets are emptied on destroy."""
    roles: Sequence[str]
    """Bucket roles (``mldm``, ``mlde-checkpoints``, ``models``); names are
    ``pdk-<deployment id>-<role>``."""
    tags: Mapping[str, str]


class S3Buckets(pulumi.ComponentResource):
    """Private, encrypted buckets owned by the account.

    Public access is blocked on four counts, ACLs are disabled (bucket-owner-enforced), and
    objects are encrypted with S3-managed keys. ``force_destroy`` is on only for ephemeral
    stacks: elsewhere a destroy stops at a bucket that still holds data.
    """

    names: dict[str, pulumi.Output[str]]
    arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: BucketsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:target:S3Buckets", name, None, opts)
        naming = args.naming
        self.names, self.arns = {}, {}
        for role in args.roles:
            bucket = aws.s3.Bucket(
                f"{name}-{role}",
                bucket=naming.cloud_name(role),
                force_destroy=naming.ephemeral,
                tags=dict(args.tags),
                opts=naming.stateful(pulumi.ResourceOptions(parent=self)),
            )
            child = pulumi.ResourceOptions(parent=bucket)
            aws.s3.BucketPublicAccessBlock(
                f"{name}-{role}-public-access",
                bucket=bucket.id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
                opts=child,
            )
            aws.s3.BucketOwnershipControls(
                f"{name}-{role}-ownership",
                bucket=bucket.id,
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
                opts=child,
            )
            aws.s3.BucketServerSideEncryptionConfiguration(
                f"{name}-{role}-encryption",
                bucket=bucket.id,
                rules=[
                    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="AES256"
                        ),
                        bucket_key_enabled=True,
                    )
                ],
                opts=child,
            )
            self.names[role], self.arns[role] = bucket.bucket, bucket.arn
        self.register_outputs({"buckets": self.names})


def gp3_storage_class(
    resource_name: str, naming: Naming, opts: pulumi.ResourceOptions
) -> k8s.storage.v1.StorageClass:
    """Encrypted gp3 volumes from the EBS CSI driver, as the cluster's default class.

    EKS clusters from 1.30 on have no default class (the legacy ``gp2`` class loses the
    default annotation), so claims without a class (Helm charts' volumes) land here.
    """
    return k8s.storage.v1.StorageClass(
        resource_name,
        metadata=naming.metadata(
            GP3_CLASS, annotations={"storageclass.kubernetes.io/is-default-class": "true"}
        ),
        provisioner="ebs.csi.aws.com",
        # The driver tags each volume it creates with these (tagSpecification_N, EBS CSI
        # >= 1.6, docs/tagging.md), so a disk left by a claim is found by the leak query.
        parameters={
            "type": "gp3",
            "encrypted": "true",
            "fsType": "ext4",
            **{
                f"tagSpecification_{index}": f"{key}={value}"
                for index, (key, value) in enumerate(sorted(naming.tags.items()), start=1)
            },
        },
        reclaim_policy="Delete",
        volume_binding_mode="WaitForFirstConsumer",
        allow_volume_expansion=True,
        opts=opts,
    )
