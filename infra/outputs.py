"""Stack output names: the contract between this program, its tests and its users' scripts.

``pulumi stack output <NAME>`` reads them; tests and the CLI import these constants instead of
repeating strings.
"""

from __future__ import annotations

import pulumi

from infra.contract import TargetContract
from infra.naming import DEPLOYMENT_LABEL, Naming

TARGET = "target"
DEPLOYMENT_ID = "deploymentId"
NAMESPACES = "namespaces"
OBJECT_STORE = "objectStore"
BUCKETS = "buckets"
POSTGRES = "postgres"
SHARED_FILESYSTEM = "sharedFilesystem"
REGISTRY = "registry"
FIND_RESOURCES = "findResourcesCommand"
COMMANDS = "commands"

ALL = (
    TARGET,
    DEPLOYMENT_ID,
    NAMESPACES,
    OBJECT_STORE,
    BUCKETS,
    POSTGRES,
    SHARED_FILESYSTEM,
    REGISTRY,
    FIND_RESOURCES,
    COMMANDS,
)


def export_target(contract: TargetContract, naming: Naming) -> None:
    """Exports what a user needs to find and reach the target's pieces. No secret values."""
    store = contract.object_store
    pulumi.export(TARGET, contract.name)
    pulumi.export(DEPLOYMENT_ID, naming.deployment_id)
    pulumi.export(NAMESPACES, sorted(contract.namespaces))
    pulumi.export(
        OBJECT_STORE, {"kind": store.kind, "endpoint": store.endpoint, "region": store.region}
    )
    pulumi.export(
        BUCKETS,
        {
            "mldm": store.buckets.mldm,
            "checkpoints": store.buckets.checkpoints,
            "models": store.buckets.models,
        },
    )
    pulumi.export(
        POSTGRES,
        {
            "host": contract.postgres.host,
            "port": contract.postgres.port,
            "user": contract.postgres.user,
            "databases": list(contract.postgres.databases),
        },
    )
    pulumi.export(
        SHARED_FILESYSTEM,
        {
            "claim": contract.shared_fs.claim_name,
            "namespaces": list(contract.shared_fs.namespaces),
            "mountPath": contract.shared_fs.mount_path,
        },
    )
    pulumi.export(REGISTRY, contract.registry.url)
    pulumi.export(
        FIND_RESOURCES,
        "kubectl get all,pvc,pv,secrets,configmaps -A "
        f"-l {DEPLOYMENT_LABEL}={naming.deployment_id}",
    )
    pulumi.export(COMMANDS, dict(contract.commands))
