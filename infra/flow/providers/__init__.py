"""Dynamic providers for the flow's MLDM and MLDE objects.

The SDKs (``pachyderm_sdk``, ``determined``) are imported inside provider methods only, so
declaring these resources costs the program nothing at import time; the calls run in Pulumi's
dynamic-provider process during ``pulumi up``, ``refresh`` and ``destroy``.
"""

from infra.flow.providers.mlde import (
    MldeConnection,
    MldeProject,
    MldeProjectArgs,
    MldeProjectProvider,
    MldeWorkspace,
    MldeWorkspaceArgs,
    MldeWorkspaceProvider,
)
from infra.flow.providers.mldm import (
    MldmConnection,
    MldmPipeline,
    MldmPipelineArgs,
    MldmPipelineProvider,
    MldmProject,
    MldmProjectArgs,
    MldmProjectProvider,
    MldmRepo,
    MldmRepoArgs,
    MldmRepoProvider,
)

__all__ = [
    "MldeConnection",
    "MldeProject",
    "MldeProjectArgs",
    "MldeProjectProvider",
    "MldeWorkspace",
    "MldeWorkspaceArgs",
    "MldeWorkspaceProvider",
    "MldmConnection",
    "MldmPipeline",
    "MldmPipelineArgs",
    "MldmPipelineProvider",
    "MldmProject",
    "MldmProjectArgs",
    "MldmProjectProvider",
    "MldmRepo",
    "MldmRepoArgs",
    "MldmRepoProvider",
]
