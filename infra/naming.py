"""Names, labels and protection: one helper so every resource is predictable and findable.

Logical (Pulumi) names describe a role and never contain the stack, so two stacks' plans line up
resource by resource in ``pdk diff``. Names that must be unique outside the stack (buckets, and on
clouds any account-wide name) come from ``Naming.cloud_name`` and carry the deployment id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.config.stack import StackConfig, stack_deployment_id

PART_OF = "pdk"
LABEL_PREFIX = "pdk-deployer"
STACK_LABEL = f"{LABEL_PREFIX}/stack"
DEPLOYMENT_LABEL = f"{LABEL_PREFIX}/deployment-id"


def _label_value(text: str) -> str:
    """Kubernetes label values: at most 63 characters of [A-Za-z0-9_.-], alphanumeric ends."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", text)[:63]
    return cleaned.strip("-_.") or "unnamed"


@dataclass(frozen=True)
class Naming:
    """The naming, labelling and protection rules of one stack."""

    stack: str
    """The Pulumi stack name."""
    deployment_id: str
    """Short id that makes cloud-side names unique; the stack name unless configured."""
    ephemeral: bool
    """Whether stateful resources may be deleted with the stack."""

    @classmethod
    def for_stack(cls, stack: str, config: StackConfig) -> Naming:
        return cls(
            stack=stack,
            deployment_id=config.deployment_id or stack_deployment_id(stack),
            ephemeral=config.ephemeral,
        )

    @property
    def labels(self) -> dict[str, str]:
        """The label set every Kubernetes object carries (and, as tags, every cloud resource)."""
        return {
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": "pulumi",
            STACK_LABEL: _label_value(self.stack),
            DEPLOYMENT_LABEL: self.deployment_id,
        }

    @property
    def tags(self) -> dict[str, str]:
        """The same set as ``labels``, as cloud resource tags."""
        return self.labels

    def cloud_name(self, role: str, max_length: int = 63) -> str:
        """A name unique outside the stack: ``pdk-<deployment id>-<role>``, DNS-safe."""
        name = f"{PART_OF}-{self.deployment_id}-{role}".lower()
        if len(name) > max_length:
            raise ValueError(f"name {name!r} exceeds {max_length} characters; shorten the role")
        return name

    def metadata(
        self,
        name: str | None,
        namespace: pulumi.Input[str] | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, pulumi.Input[str]] | None = None,
    ) -> k8s.meta.v1.ObjectMetaArgs:
        """Object metadata with the stack's labels merged in.

        ``name=None`` lets Pulumi auto-name the object, which is what Jobs want: a changed Job is
        replaced by a new one instead of failing on its immutable pod template.
        """
        return k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=namespace,
            labels={**self.labels, **(labels or {})},
            annotations=dict(annotations) if annotations else None,
        )

    def stateful(self, opts: pulumi.ResourceOptions | None = None) -> pulumi.ResourceOptions:
        """Options for resources that hold data: protected unless the stack is ephemeral."""
        return pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(protect=not self.ephemeral)
        )
