"""Cloud Storage buckets for MLDM, MLDE checkpoints and models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.naming import Naming


@dataclass(frozen=True)
class GcsBucketsArgs:
    naming: Naming
    """The stack's naming rules; an ephemeral stack's buckets are emptied on destroy."""
    location: str
    """The region: buckets next to the cluster cost no egress."""
    roles: Sequence[str]
    """Bucket roles; names are ``pdk-<deployment id>-<role>`` (global, like S3's)."""
    after: Sequence[pulumi.Resource] = ()
    """What every resource here waits for (the project's APIs)."""


class GcsBuckets(pulumi.ComponentResource):
    """Private buckets: uniform bucket-level access (IAM only, no object ACLs) and public
    access prevention enforced rather than inherited from the organisation.

    Versioning stays off: MLDM's objects are content-addressed chunks whose meaning lives in
    Postgres, so an old object version restores nothing consistent. ``force_destroy`` and no
    soft delete only on ephemeral stacks; MLDM's garbage collection deletes constantly, and
    kept stacks keep Google's 7-day soft delete as a safety net.
    """

    names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: GcsBucketsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:gcp:GcsBuckets", name, None, opts)
        naming = args.naming
        self.names = {}
        for role in args.roles:
            bucket = gcp.storage.Bucket(
                f"{name}-{role}",
                name=naming.cloud_name(role),
                location=args.location,
                uniform_bucket_level_access=True,
                public_access_prevention="enforced",
                force_destroy=naming.ephemeral,
                soft_delete_policy=(
                    gcp.storage.BucketSoftDeletePolicyArgs(retention_duration_seconds=0)
                    if naming.ephemeral
                    else None
                ),
                opts=naming.stateful(
                    pulumi.ResourceOptions(parent=self, depends_on=list(args.after))
                ),
            )
            self.names[role] = bucket.name
        self.register_outputs({"buckets": self.names})
