"""One typed builder for MLDM (Pachyderm) pipeline specs, for every target.

``pipeline_spec(args, image)`` returns a plain dict in the JSON form that ``pachctl create
pipeline`` accepts (snake_case field names, proto3 JSON values). Cloud and on-prem variants
differ only by their args: the on-prem/shared-filesystem variant sets ``shared_volume``, which
becomes a pod patch that mounts the read-write-many claim; a cloud variant leaves it out.
Nothing here registers a resource.

The dict is exactly what ``pachyderm_sdk.api.pps.CreatePipelineRequest`` writes back after
reading it (``from_dict`` then ``to_dict(casing=SNAKE)``): 64-bit integers are strings, enums are
their names, and default values (false, 0, "") are left out. The tests hold every variant to
that round trip, which also catches a field name the protobuf does not know (``from_dict`` drops
unknown keys silently).

Pachyderm's pps API has no service-account field: workers run as the chart's worker account
(``pachyderm-worker``). ``service_account`` overrides it through the pod patch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.contract import SHARED_CLAIM, SHARED_MOUNT_PATH
from infra.platform.wiring import PIPELINE_SECRET

SHARED_VOLUME_NAME = "pdk-shared-fs"
"""Name of the volume the shared-filesystem pod patch adds to worker pods."""
USER_CONTAINER = 0
"""Index of the user container in a Pachyderm worker pod (the storage sidecar follows it)."""
GPU_RESOURCE = "nvidia.com/gpu"

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$")
"""Pachyderm project, repo and pipeline names: letters, digits, '_' and '-'; pipeline names
also become Kubernetes object names, hence the 63-character cap."""
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
_OPERATORS = {"Equal": "EQUAL", "Exists": "EXISTS"}
_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}


@dataclass(frozen=True)
class PfsInput:
    """The one PFS input of a pipeline."""

    repo: str
    """Input repo; for the deploy pipeline, the train pipeline's name (its output repo)."""
    project: str
    """MLDM project of ``repo``."""
    glob: str = "/"
    """Datum glob; default ``/`` (the whole commit is one datum, as the PDK flow needs)."""
    branch: str = "master"
    """Branch whose commits trigger jobs; default ``master``."""
    empty_files: bool = False
    """Mount the input's files with their names only, all empty (``PfsInput.empty_files``):
    for a step that reads file names and leaves the data to another system, as the train step
    does (MLDE downloads the commit itself); default false (files with their content)."""


@dataclass(frozen=True)
class SharedVolume:
    """The read-write-many claim to mount into worker pods (on-prem and NFS/EFS variants)."""

    claim: str = SHARED_CLAIM
    """Claim name; default ``pdk-pvc`` (``infra.contract.SHARED_CLAIM``); it must exist in the
    namespace the workers run in."""
    mount_path: str = SHARED_MOUNT_PATH
    """Where the user container sees it; default the path MLDE tasks use."""


@dataclass(frozen=True)
class Toleration:
    """A worker pod toleration, in Kubernetes' spelling (``NodePlacement.gpu_toleration``)."""

    key: str
    """Taint key, e.g. ``nvidia.com/gpu``."""
    value: str = ""
    """Taint value; must be empty with ``operator="Exists"``."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"
    """Taint effect tolerated."""
    operator: Literal["Equal", "Exists"] = "Equal"
    """``Equal`` matches ``value``; ``Exists`` matches any value."""

    @classmethod
    def from_kubernetes(cls, toleration: Mapping[str, str]) -> Toleration:
        """From a Kubernetes toleration mapping such as ``NodePlacement.gpu_toleration``."""
        return cls(
            key=toleration["key"],
            value=toleration.get("value", ""),
            effect=toleration.get("effect", "NoSchedule"),  # type: ignore[arg-type]
            operator=toleration.get("operator", "Equal"),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class SecretEnv:
    """One environment variable read from a key of a Secret."""

    secret: str
    key: str
    env_var: str


@dataclass(frozen=True)
class PipelineSpecArgs:
    """Everything that varies between PDK pipelines and between targets."""

    name: str
    """Pipeline name (also its output repo's name), e.g. ``dogs-and-cats-model``."""
    project: str
    """MLDM project of the pipeline, e.g. ``pdk-dogs-and-cats``."""
    cmd: Sequence[str]
    """Command of the user container, e.g. ``["python", "-m", "pdk_assets.train"]``."""
    input: PfsInput
    """The repo whose commits trigger the pipeline."""
    description: str = ""
    """One line shown by ``pachctl list pipeline``; default empty."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Plain environment variables (no credentials: those go in ``secret_env``)."""
    secret_env: Mapping[str, str] = field(default_factory=dict)
    """``secret_name`` key -> environment variable, e.g. ``{"pac_token": "PACH_TOKEN"}``. An
    environment variable may appear here or in ``env``, not both."""
    secret_name: str = PIPELINE_SECRET
    """The Secret ``secret_env`` reads, in the workers' namespace; default ``pipeline-secret``."""
    other_secrets: Sequence[SecretEnv] = ()
    """Variables from other Secrets of the workers' namespace (a target's object-store keys);
    default none."""
    service_account: str | None = None
    """Kubernetes service account of worker pods; default the chart's ``pachyderm-worker``.
    Set through the pod patch (the pps API has no field for it)."""
    shared_volume: SharedVolume | None = None
    """Mount the shared claim into the user container (on-prem and shared-filesystem variants);
    default none (cloud variant, where the flow reads buckets instead)."""
    cpu: float | None = None
    """CPU request in cores, e.g. ``0.5``; default none (the cluster's default)."""
    memory: str | None = None
    """Memory request as a Kubernetes quantity, e.g. ``1Gi``; default none."""
    disk: str | None = None
    """Ephemeral storage request as a Kubernetes quantity; default none."""
    gpus: int = 0
    """GPUs (``nvidia.com/gpu``) as a resource limit; default 0. The PDK train step drives MLDE,
    which holds the GPUs, so its own worker needs none."""
    datum_tries: int | None = None
    """Attempts per datum before the job fails; default none (Pachyderm's default, 3)."""
    parallelism: int | None = None
    """Constant number of workers; default none (Pachyderm's default, 1)."""
    autoscaling: bool = False
    """Scale workers down to zero between jobs; default false (workers stay up, jobs start
    faster). The PDK train and deploy steps hold no state between jobs, so either works."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Node labels worker pods must match, e.g. ``{"nodegroup-role": "cpu-worker"}``; default
    any node."""
    tolerations: Sequence[Toleration] = ()
    """Taints worker pods tolerate; default none."""
    image_pull_secrets: Sequence[str] = ()
    """Secrets for pulling ``image`` from a private registry without node credentials."""
    extra_pod_patch: Sequence[Mapping[str, Any]] = ()
    """Further RFC 6902 operations on the worker pod spec, applied after the ones above."""

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError(
                f"pipeline {self.name!r}: invalid spec arguments:\n"
                + "\n".join(f"  {problem}" for problem in problems)
            )


def _problems(args: PipelineSpecArgs) -> list[str]:
    problems = []
    for label, value in (
        ("name", args.name),
        ("project", args.project),
        ("input.repo", args.input.repo),
        ("input.project", args.input.project),
    ):
        if not _NAME.match(value):
            problems.append(
                f"{label}: {value!r} is not an MLDM name; use 1-63 letters, digits, '_' or '-', "
                "starting with a letter or digit"
            )
    if not args.cmd:
        problems.append("cmd: empty; pass the container's command, e.g. ['python', '-m', ...]")
    secret_vars = [*args.secret_env.values(), *(s.env_var for s in args.other_secrets)]
    for variable in [*args.env, *secret_vars]:
        if not _ENV_VAR.match(variable):
            problems.append(
                f"env: {variable!r} is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"
            )
    both = sorted(set(args.env) & set(secret_vars))
    if both:
        problems.append(f"env: {both} set both as plain and as secret variables; keep one")
    if len(set(secret_vars)) != len(secret_vars):
        problems.append(f"secret_env: {sorted(secret_vars)} maps two keys to one variable")
    if args.cpu is not None and args.cpu <= 0:
        problems.append(f"cpu: {args.cpu} must be positive (cores, e.g. 0.5)")
    for label, quantity in (("memory", args.memory), ("disk", args.disk)):
        if quantity is not None and not _QUANTITY.match(quantity):
            problems.append(f"{label}: {quantity!r} is not a Kubernetes quantity (e.g. 1Gi)")
    for label, count in (("datum_tries", args.datum_tries), ("parallelism", args.parallelism)):
        if count is not None and count < 1:
            problems.append(f"{label}: {count} must be at least 1")
    if args.gpus < 0:
        problems.append(f"gpus: {args.gpus} must not be negative")
    for toleration in args.tolerations:
        if toleration.operator not in _OPERATORS or toleration.effect not in _EFFECTS:
            problems.append(
                f"tolerations: {toleration.key!r} has operator {toleration.operator!r} and "
                f"effect {toleration.effect!r}; operators are {sorted(_OPERATORS)}, effects "
                f"{sorted(_EFFECTS)}"
            )
        elif toleration.operator == "Exists" and toleration.value:
            problems.append(f"tolerations: {toleration.key!r} sets a value with operator Exists")
    if args.shared_volume and not args.shared_volume.mount_path.startswith("/"):
        problems.append(
            f"shared_volume.mount_path: {args.shared_volume.mount_path!r} must be absolute"
        )
    return problems


def pod_patch_operations(args: PipelineSpecArgs) -> list[dict[str, Any]]:
    """The RFC 6902 operations on the worker pod spec that ``args`` asks for, in order."""
    operations: list[dict[str, Any]] = []
    if args.shared_volume is not None:
        operations += [
            {
                "op": "add",
                "path": "/volumes/-",
                "value": {
                    "name": SHARED_VOLUME_NAME,
                    "persistentVolumeClaim": {"claimName": args.shared_volume.claim},
                },
            },
            {
                "op": "add",
                "path": f"/containers/{USER_CONTAINER}/volumeMounts/-",
                "value": {"name": SHARED_VOLUME_NAME, "mountPath": args.shared_volume.mount_path},
            },
        ]
    if args.service_account is not None:
        # "add" on an existing member replaces it (RFC 6902 4.1), so this works whether or not
        # the chart sets the field.
        operations.append(
            {"op": "add", "path": "/serviceAccountName", "value": args.service_account}
        )
    operations += [dict(operation) for operation in args.extra_pod_patch]
    return operations


def _resources(args: PipelineSpecArgs) -> dict[str, Any]:
    requests: dict[str, Any] = {}
    if args.cpu is not None:
        requests["cpu"] = args.cpu
    if args.memory is not None:
        requests["memory"] = args.memory
    if args.disk is not None:
        requests["disk"] = args.disk
    return requests


def pipeline_spec(args: PipelineSpecArgs, image: str) -> dict[str, Any]:
    """The spec of ``args`` running ``image``, as ``pachctl create pipeline`` and
    ``CreatePipelineV2Request.create_pipeline_request_json`` accept it.

    The image is separate from ``args`` because it is known only once the stack has built it
    (``FlowImages``); ``args`` is checked when it is made, before anything is registered.
    """
    if not image:
        raise ValueError(f"pipeline {args.name!r}: empty image; pass the image the stack built")
    transform: dict[str, Any] = {"image": image, "cmd": list(args.cmd)}
    if args.env:
        transform["env"] = dict(sorted(args.env.items()))
    secrets = [
        {"name": args.secret_name, "key": key, "env_var": variable}
        for key, variable in sorted(args.secret_env.items())
    ] + [{"name": s.secret, "key": s.key, "env_var": s.env_var} for s in args.other_secrets]
    if secrets:
        transform["secrets"] = secrets
    if args.image_pull_secrets:
        transform["image_pull_secrets"] = list(args.image_pull_secrets)

    pfs: dict[str, Any] = {
        "project": args.input.project,
        "repo": args.input.repo,
        "glob": args.input.glob,
        "branch": args.input.branch,
    }
    if args.input.empty_files:
        pfs["empty_files"] = True
    spec: dict[str, Any] = {
        "pipeline": {"name": args.name, "project": {"name": args.project}},
        "transform": transform,
        "input": {"pfs": pfs},
    }
    if args.description:
        spec["description"] = args.description
    requests = _resources(args)
    if requests:
        spec["resource_requests"] = requests
    if args.gpus:
        # proto3 JSON writes 64-bit integers as strings.
        spec["resource_limits"] = {"gpu": {"type": GPU_RESOURCE, "number": str(args.gpus)}}
    if args.datum_tries is not None:
        spec["datum_tries"] = str(args.datum_tries)
    if args.parallelism is not None:
        spec["parallelism_spec"] = {"constant": str(args.parallelism)}
    if args.autoscaling:
        spec["autoscaling"] = True
    if args.node_selector:
        spec["scheduling_spec"] = {"node_selector": dict(sorted(args.node_selector.items()))}
    if args.tolerations:
        spec["tolerations"] = [_toleration(toleration) for toleration in args.tolerations]
    operations = pod_patch_operations(args)
    if operations:
        spec["pod_patch"] = json.dumps(operations, sort_keys=True)
    return spec


def _toleration(toleration: Toleration) -> dict[str, Any]:
    """Pachyderm's own toleration message (enum names, not Kubernetes' spelling)."""
    out: dict[str, Any] = {
        "key": toleration.key,
        "operator": _OPERATORS[toleration.operator],
        "effect": _EFFECTS[toleration.effect],
    }
    if toleration.value:
        out["value"] = toleration.value
    return out
