"""The Artifact Registry repository for the flow's images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.contract import ImageRegistry
from infra.naming import Naming

TOKEN_USER = "oauth2accesstoken"
"""The user name Artifact Registry accepts with an OAuth access token as the password."""


@dataclass(frozen=True)
class ArtifactRegistryArgs:
    naming: Naming
    """The stack's naming rules; the repository is ``pdk-<deployment id>-images``."""
    location: str
    """The region (pulls from the nodes stay in it)."""
    keep: int
    """Tagged versions each image keeps; untagged ones are deleted after a day."""
    node_member: pulumi.Input[str]
    """The nodes' service account (kubelet pulls as the node, not through Workload Identity)."""
    after: Sequence[pulumi.Resource] = ()
    """What every resource here waits for (the project's APIs)."""


class ArtifactRegistry(pulumi.ComponentResource):
    """A Docker repository with cleanup policies, readable by the nodes only.

    Images are pushed with the deploying identity's short-lived access token (fetched on every
    run and kept secret), so no key file exists. Any image name may be pushed under the
    repository, so there are no per-image repositories as on ECR.
    """

    registry: ImageRegistry

    def __init__(
        self, name: str, args: ArtifactRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("pdk:gcp:ArtifactRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))
        repository = gcp.artifactregistry.Repository(
            f"{name}-repository",
            repository_id=args.naming.cloud_name("images"),
            location=args.location,
            format="DOCKER",
            description="Images of the PDK flow",
            # The flow's tags are content hashes, so a tag never needs to move.
            docker_config=gcp.artifactregistry.RepositoryDockerConfigArgs(immutable_tags=True),
            cleanup_policies=[
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="keep-recent",
                    action="KEEP",
                    most_recent_versions=gcp.artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(
                        keep_count=args.keep
                    ),
                ),
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="delete-untagged",
                    action="DELETE",
                    condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(
                        tag_state="UNTAGGED", older_than="86400s"
                    ),
                ),
            ],
            opts=child,
        )
        gcp.artifactregistry.RepositoryIamMember(
            f"{name}-nodes-read",
            repository=repository.name,
            location=args.location,
            role="roles/artifactregistry.reader",
            member=args.node_member,
            opts=child,
        )
        token = gcp.organizations.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).access_token
        self.registry = ImageRegistry(
            url=repository.registry_uri,
            username=TOKEN_USER,
            password=pulumi.Output.secret(token),
        )
        self.register_outputs({"url": repository.registry_uri})
