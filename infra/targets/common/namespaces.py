"""The namespaces every target creates for the layers above it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.naming import Naming

GPU_NAMESPACE = "gpu-pool"
"""MLDE's GPU resource pool runs its tasks here."""
MODELS_NAMESPACE = "models"
"""KServe InferenceServices live here."""


@dataclass(frozen=True)
class NamespacesArgs:
    naming: Naming
    """The stack's naming rules."""
    names: Sequence[str]
    """Namespaces to create, in addition to ``default`` which always exists."""
    stateful: frozenset[str] = frozenset()
    """Namespaces holding volumes: protected unless ephemeral, because deleting a namespace
    deletes every claim in it."""


class Namespaces(pulumi.ComponentResource):
    """Creates the namespaces; ``by_name`` maps each name to its resource."""

    by_name: dict[str, k8s.core.v1.Namespace]

    def __init__(self, name: str, args: NamespacesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:target:Namespaces", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.by_name = {}
        for namespace in args.names:
            options = args.naming.stateful(child) if namespace in args.stateful else child
            self.by_name[namespace] = k8s.core.v1.Namespace(
                f"{name}-{namespace}",
                metadata=args.naming.metadata(namespace),
                opts=options,
            )
        self.register_outputs({"names": list(self.by_name)})
