"""A recorded Pulumi CLI for the Automation API's own seam (``LocalWorkspace(pulumi_command=)``).

It records every command line the SDK builds and answers like the CLI would from an in-memory
backend (stacks with config, tags, outputs and state). ``up`` and ``destroy`` stream engine
events to the SDK's gRPC events server, the transport CLIs newer than 3.205 use. What this
proves: our orchestration, ordering, failure handling and the argv we make the SDK send. What it
cannot prove: that the real CLI and engine behave as scripted here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from pulumi.automation import CommandResult, PulumiCommand
from pulumi.automation.errors import create_command_error
from pulumi.runtime.proto import events_pb2, events_pb2_grpc
from semver import VersionInfo

SDK_VERSION = "3.272.0"


@dataclass
class FakeStack:
    config: dict[str, tuple[str, bool]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, tuple[Any, bool]] = field(default_factory=dict)
    resources: list[dict[str, Any]] = field(default_factory=list)
    deployed: bool = False


def resource_events(urns: list[str], op: str, start: int = 1_000) -> list[dict[str, Any]]:
    """Engine events for ``op`` on each URN (pre, then outputs 30 s later), then a summary."""
    events: list[dict[str, Any]] = []
    for index, urn in enumerate(urns):
        meta = {"op": op, "urn": urn, "type": urn.split("::")[-2], "provider": ""}
        events.append(
            {
                "sequence": 2 * index,
                "timestamp": start + index,
                "resourcePreEvent": {"metadata": meta},
            }
        )
        events.append(
            {
                "sequence": 2 * index + 1,
                "timestamp": start + index + 30,
                "resOutputsEvent": {"metadata": meta},
            }
        )
    events.append(
        {
            "sequence": 2 * len(urns),
            "timestamp": start + len(urns) + 30,
            "summaryEvent": {
                "maybeCorrupt": False,
                "durationSeconds": len(urns) + 30,
                "resourceChanges": {op: len(urns)},
                "PolicyPacks": {},
            },
        }
    )
    return events


class FakePulumi(PulumiCommand):
    """Answers the CLI commands the Automation API issues, from an in-memory backend."""

    def __init__(self, version: str = SDK_VERSION, user: str | None = "ci-bot") -> None:
        # No `pulumi version` subprocess: that is the part of PulumiCommand we stand in for.
        self.command = "pulumi"
        self.version = VersionInfo.parse(version)
        self.user = user
        self.url = "s3://pdk-state-bucket"
        self.stacks: dict[str, FakeStack] = {}
        self.calls: list[list[str]] = []
        self.fail: dict[str, str] = {}
        """Command word ("up", "destroy", "stack rm") -> stderr it fails with."""
        self.up_outputs: dict[str, tuple[Any, bool]] = {}
        self.up_resources: list[dict[str, Any]] = []

    # -- helpers for tests ------------------------------------------------------------------

    def commands(self) -> list[str]:
        """The recorded command lines, with temporary paths and ports masked."""
        lines = []
        for args in self.calls:
            shown = []
            for index, arg in enumerate(args):
                previous = args[index - 1] if index else ""
                shown.append("EVENTS" if previous == "--event-log" else arg)
            lines.append(" ".join(shown))
        return lines

    # -- the CLI ------------------------------------------------------------------------------

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: Any = None,
        on_error: Any = None,
    ) -> CommandResult:
        args = [arg for arg in args if arg != "--non-interactive"]
        self.calls.append(list(args))
        for prefix, stderr in self.fail.items():
            if " ".join(args).startswith(prefix):
                raise create_command_error(CommandResult("", f"error: {stderr}\n", 255))
        stdout = self._answer(args)
        return CommandResult(stdout=stdout, stderr="", code=0)

    def _stack_arg(self, args: list[str]) -> str:
        return args[args.index("--stack") + 1]

    def _get(self, name: str) -> FakeStack:
        if name not in self.stacks:
            raise create_command_error(
                CommandResult("", f"error: no stack named '{name}' found\n", 255)
            )
        return self.stacks[name]

    def _answer(self, args: list[str]) -> str:
        word = args[0]
        if word == "whoami":
            if self.user is None:
                raise create_command_error(
                    CommandResult("", "error: PULUMI_ACCESS_TOKEN must be set for login\n", 255)
                )
            return json.dumps({"user": self.user, "organizations": [], "url": self.url})
        if args[:2] == ["stack", "init"]:
            name = args[2]
            if name in self.stacks:
                raise create_command_error(
                    CommandResult("", f"error: stack '{name}' already exists\n", 255)
                )
            self.stacks[name] = FakeStack()
            return ""
        if args[:2] == ["stack", "select"]:
            self._get(self._stack_arg(args))
            return ""
        if args[:2] == ["stack", "ls"]:
            return json.dumps(
                [
                    {"name": name, "current": False, "resourceCount": len(stack.resources)}
                    for name, stack in sorted(self.stacks.items())
                ]
            )
        if args[:3] == ["stack", "tag", "set"]:
            self._get(self._stack_arg(args)).tags[args[3]] = args[4]
            return ""
        if args[:3] == ["stack", "tag", "ls"]:
            return json.dumps(self._get(self._stack_arg(args)).tags)
        if args[:2] == ["config", "set-all"]:
            stack = self._get(self._stack_arg(args))
            for flag, pair in zip(args[4::2], args[5::2], strict=False):
                key, _, value = pair.partition("=")
                stack.config[key] = (value, flag == "--secret")
            return ""
        if args[:2] == ["config", "cp"]:
            source = self._get(self._stack_arg(args))
            dest = self._get(args[args.index("--dest") + 1])
            dest.config[args[2]] = source.config[args[2]]
            return ""
        if word == "config":
            stack = self._get(self._stack_arg(args))
            return json.dumps({k: {"value": v, "secret": s} for k, (v, s) in stack.config.items()})
        if args[:2] == ["stack", "output"]:
            stack = self._get(self._stack_arg(args))
            reveal = "--show-secrets" in args
            return json.dumps(
                {k: v if reveal or not s else "[secret]" for k, (v, s) in stack.outputs.items()}
            )
        if args[:2] == ["stack", "history"]:
            return json.dumps(
                [
                    {
                        "kind": "update",
                        "startTime": "2026-11-25T14:00:00.000Z",
                        "message": "",
                        "environment": {},
                        "config": {},
                        "result": "succeeded",
                        "endTime": "2026-11-25T14:20:00.000Z",
                        "version": 1,
                        "resourceChanges": {},
                    }
                ]
            )
        if args[:2] == ["stack", "export"]:
            stack = self._get(self._stack_arg(args))
            return json.dumps({"version": 3, "deployment": {"resources": stack.resources}})
        if args[:2] == ["stack", "rm"]:
            self._get(args[-1])
            del self.stacks[args[-1]]
            return ""
        if word == "up":
            stack = self._get(self._stack_arg(args))
            self._stream(args, resource_events([r["urn"] for r in self.up_resources], "create"))
            stack.outputs = dict(self.up_outputs)
            stack.resources = list(self.up_resources)
            stack.deployed = True
            return "Update succeeded\n"
        if word == "destroy":
            stack = self._get(self._stack_arg(args))
            self._stream(args, resource_events([r["urn"] for r in stack.resources], "delete"))
            stack.resources = []
            stack.outputs = {}
            stack.deployed = False
            return "Destroy succeeded\n"
        raise AssertionError(f"the fake CLI does not know: pulumi {' '.join(args)}")

    def _stream(self, args: list[str], events: list[dict[str, Any]]) -> None:
        """Sends events as the CLI does: a client stream to the SDK's Events server."""
        address = args[args.index("--event-log") + 1]
        assert address.startswith("tcp://"), address
        with grpc.insecure_channel(address.removeprefix("tcp://")) as channel:
            stub = events_pb2_grpc.EventsStub(channel)
            stub.StreamEvents(
                iter([events_pb2.EventRequest(event=json.dumps(event)) for event in events])
            )
