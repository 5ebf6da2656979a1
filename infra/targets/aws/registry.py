"""ECR repositories for the flow's images."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.contract import ImageRegistry
from infra.naming import Naming


def lifecycle_policy(keep: int) -> str:
    """Expire untagged images after a day; keep the newest ``keep`` tagged ones."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "Untagged images (superseded pushes) expire after a day",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": 1,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the newest {keep} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class EcrArgs:
    naming: Naming
    """The stack's naming rules; repositories are ``pdk-<deployment id>/<image>``."""
    images: Sequence[str]
    """Image names, one repository each."""
    keep: int
    """Tagged images each repository keeps."""
    tags: Mapping[str, str]


class EcrRepositories(pulumi.ComponentResource):
    """Private repositories with scan on push, immutable tags (the flow's tags are content
    hashes, so a tag never needs to move) and a lifecycle policy."""

    registry: ImageRegistry

    def __init__(self, name: str, args: EcrArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:target:EcrRepositories", name, None, opts)
        prefix = args.naming.cloud_name("images")
        repositories = []
        for image in args.images:
            repository = aws.ecr.Repository(
                f"{name}-{image}",
                name=f"{prefix}/{image}",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                image_tag_mutability="IMMUTABLE",
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")
                ],
                force_delete=args.naming.ephemeral,
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-{image}-lifecycle",
                repository=repository.name,
                policy=lifecycle_policy(args.keep),
                opts=pulumi.ResourceOptions(parent=repository),
            )
            repositories.append(repository)
        first = repositories[0]
        token = aws.ecr.get_authorization_token_output(
            registry_id=first.registry_id, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        self.registry = ImageRegistry(
            url=first.repository_url.apply(lambda url: url.rsplit("/", 1)[0]),
            username=token.user_name,
            password=pulumi.Output.secret(token.password),
            repositories=list(args.images),
        )
        self.register_outputs({"url": self.registry.url})
