"""Runs the real program under Pulumi's mock engine and records what it registers.

No CLI, credentials or cluster are involved: Pulumi's Python SDK ships a mock resource monitor
(``pulumi.runtime.set_mocks``) that accepts registrations in-process. We extend it to keep what
the stock mock drops (parent, dependencies, protect, provider) and turn the result into a
``Snapshot``: a stable, JSON-friendly list of resources with secrets replaced by a marker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config.load import load_config
from infra.config.problems import ConfigError
from infra.config.stack import StackConfig
from infra.config.types import PROJECT
from infra.plan import cli_yaml, cloud_mocks
from infra.plan.stackfiles import REPO_ROOT, read_stack

SECRET = "[secret]"
"""Replaces every secret value in a snapshot."""
UNKNOWN = "[unknown]"
"""Replaces values only known after deployment."""

# Wire markers of Pulumi's property serialisation (sdk/python/lib/pulumi/runtime/rpc.py).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

MOCK_SECRET_PREFIX = "mock-generated-secret-"
"""Values the mocks hand out for generated secrets. They must never appear in a snapshot:
tests search for this prefix to prove every secret was redacted."""


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _clean(value: Any, reveal: bool = False) -> Any:
    """Wire value -> plain JSON value, secrets and unknowns replaced by markers.

    ``reveal`` keeps secret values (the mocks' stand-ins), for tests that check where a secret
    goes; snapshots shown to users never reveal.
    """
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return _clean(value.get("value"), reveal) if reveal else SECRET
        if sig == _RESOURCE_SIG:
            return {"resource": _urn_name(str(value.get("urn", "")))}
        if sig == _OUTPUT_SIG:
            if value.get("secret") and not reveal:
                return SECRET
            return _clean(value.get("value", _UNKNOWN), reveal)
        return {key: _clean(item, reveal) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [_clean(item, reveal) for item in value]
    if value == _UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _Mocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs, and hand out deterministic values for generated secrets."""

    def __init__(self) -> None:
        self.providers: dict[str, dict[str, Any]] = {}
        """Inputs of each target's provider registered so far (region, project)."""

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ.startswith("random:index/"):
            state["result"] = f"{MOCK_SECRET_PREFIX}{args.name}"
        if args.typ == "random:index/randomId:RandomId":
            # Random name suffixes are not secrets: a plain stand-in of the asked length.
            state["hex"] = ("a1b2c3d4" * 8)[: 2 * int(args.inputs.get("byteLength", 4))]
        if args.typ == "tls:index/privateKey:PrivateKey":
            state["privateKeyPem"] = f"{MOCK_SECRET_PREFIX}{args.name}"
        if args.typ.startswith("pulumi:providers:"):
            self.providers[args.typ] = dict(args.inputs)
        state.update(cloud_mocks.resource_outputs(args.typ, args.name, args.inputs, self.providers))
        return f"{args.name}-id", state

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return cloud_mocks.call_outputs(args.token, args.args), []


@dataclass
class _Recorded:
    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    dependencies: list[str]
    protect: bool
    provider: str | None
    custom: bool


class RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, keeping each registration's parent, dependencies and options."""

    def __init__(self, reveal_secrets: bool = False) -> None:
        super().__init__(_Mocks())
        self.recorded: dict[str, _Recorded] = {}
        self.reveal_secrets = reveal_secrets

    def RegisterResource(self, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            urn = self.make_urn(request.parent, request.type, request.name)
            # Children of the stack itself are top-level; the stack is not a resource we plan.
            top_level = not request.parent or request.parent.split("::")[2] == "pulumi:pulumi:Stack"
            # A provider reference is "<provider urn>::<provider id>".
            provider = request.provider.rsplit("::", 1)[0] if request.provider else None
            self.recorded[urn] = _Recorded(
                type=request.type,
                name=request.name,
                parent=None if top_level else _urn_name(request.parent),
                inputs=_clean(json_format.MessageToDict(request.object), self.reveal_secrets),
                dependencies=sorted({_urn_name(dep) for dep in request.dependencies}),
                protect=bool(request.protect),
                provider=_urn_name(provider) if provider else None,
                # Components group; remote components (yaml/v2) are created by their provider.
                custom=bool(request.custom or request.remote),
            )
        # The SDK's mock monitor is untyped.
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


@dataclass
class Snapshot:
    """What ``pulumi up`` would create for one stack."""

    stack: str
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """Allowed but risky settings of the stack's config (not part of the snapshot's JSON)."""
    components: frozenset[str] = frozenset()
    """Names of component resources (groupings the engine creates nothing for). Kept out of
    ``to_dict``: the snapshot format stays as it is; ``infra.ops.graph`` reads it."""

    def to_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "resources": self.resources, "outputs": self.outputs}


async def _resolve_outputs(raw: dict[str, Any], reveal: bool = False) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name, value in sorted(raw.items()):
        output = pulumi.Output.from_input(value)
        known = await output.future()
        secret = await output.is_secret()
        resolved[name] = SECRET if secret and not reveal else _clean(known, reveal)
    return resolved


def use_mock_engine(stack: str, reveal_secrets: bool = False) -> RecordingMonitor:
    """Points the Pulumi runtime of this process at a fresh recording mock monitor."""
    monitor = RecordingMonitor(reveal_secrets)
    settings.reset_options(project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor
    )
    return monitor


def run_program(stack: str, config: StackConfig, reveal_secrets: bool = False) -> Snapshot:
    """Registers the stack's resources against the recording mock monitor."""
    from infra.program import build

    started = time.perf_counter()
    monitor = use_mock_engine(stack, reveal_secrets)
    pulumi.runtime.set_all_config({})
    outputs: dict[str, Any] = {}

    async def program() -> None:
        build(stack, config)
        await pulumi.runtime.stack.wait_for_rpcs()
        root = settings.get_root_resource()
        assert isinstance(root, pulumi.runtime.stack.Stack)
        outputs.update(await _resolve_outputs(root.outputs, reveal_secrets))

    _sync_await(run_pulumi_func(program))
    resources = [
        {
            "type": record.type,
            "name": record.name,
            "parent": record.parent,
            "provider": record.provider,
            "protect": record.protect,
            "inputs": record.inputs,
            "dependencies": record.dependencies,
        }
        for _, record in sorted(monitor.recorded.items())
    ]
    components = frozenset(r.name for r in monitor.recorded.values() if not r.custom)
    snapshot = Snapshot(stack=stack, resources=resources, outputs=outputs, components=components)
    snapshot.timings["program"] = time.perf_counter() - started
    return snapshot


def plan(stack: str, root: Path = REPO_ROOT, reveal_secrets: bool = False) -> Snapshot:
    """Reads the stack file, validates its config (raising ``ConfigError`` before anything is
    registered) and runs the program under mocks. ``reveal_secrets`` is for tests only."""
    raw, secret_keys = read_stack(stack, root)
    try:
        config = load_config(stack, raw, secret_keys)
    except ConfigError as error:
        raise cli_yaml.explained(error, raw) from None
    snapshot = run_program(stack, config, reveal_secrets)
    snapshot.warnings = [warning.render() for warning in config.warnings]
    return snapshot
