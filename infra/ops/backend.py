"""The Pulumi backend through the Automation API: which CLI, which workspace, who is logged in.

The Automation API drives the Pulumi CLI (it ships no engine). Every operation here goes through
``LocalWorkspace`` on this repository's own program (``Pulumi.yaml``, stack files in
``stacks/``), against whatever backend ``pulumi login`` chose: Pulumi Cloud, S3, GCS, Azure Blob
or a local folder. ``command_factory`` is the seam tests replace with a recorded CLI.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.automation import (
    CommandError,
    LocalWorkspace,
    PulumiCommand,
    Stack,
    StackNotFoundError,
)
from semver import VersionInfo

from infra.ops.errors import EXIT_USAGE, OpsError
from infra.plan.stackfiles import REPO_ROOT

MIN_CLI_VERSION = VersionInfo(3, 211, 0)
"""Stack tags (our TTL and owner) are stored by self-managed backends from v3.211 on
(pulumi/pulumi#19882); older CLIs accept the tag commands there and drop the tags."""

INSTALL_HINT = (
    "install it (https://www.pulumi.com/docs/iac/download-install/; in GitHub Actions "
    "pulumi/actions with no command installs it)"
)


def _real_command() -> PulumiCommand:
    try:
        return PulumiCommand()
    except FileNotFoundError:
        raise OpsError(f"the Pulumi CLI is not on PATH: {INSTALL_HINT}") from None
    except Exception as error:  # the SDK raises plain Exceptions for unusable versions
        raise OpsError(f"the Pulumi CLI cannot be used: {error}") from None


command_factory: Callable[[], PulumiCommand] = _real_command
"""Builds the CLI runner; tests set a recorded one (``LocalWorkspaceOptions``'s own seam)."""


def cli_message(error: CommandError) -> str:
    """The CLI's own error lines, without the SDK's framing of the whole command line."""
    text = str(error)
    stderr = text.split("stderr:", 1)[1] if "stderr:" in text else text
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return " ".join(lines[:3]) or text


@dataclass
class Backend:
    """A logged-in workspace on this repository's program."""

    workspace: LocalWorkspace
    user: str
    url: str

    def stack(self, name: str) -> Stack:
        """An existing stack; a clear error when the backend has none of that name."""
        try:
            return Stack.select(name, self.workspace)
        except StackNotFoundError:
            raise OpsError(f"the backend {self.url} has no stack '{name}'") from None
        except CommandError as error:
            raise OpsError(f"cannot select stack '{name}': {cli_message(error)}") from None

    def tags(self, name: str) -> dict[str, str]:
        return dict(self.workspace.list_tags(name))

    def stack_names(self) -> list[str]:
        return sorted(summary.name for summary in self.workspace.list_stacks())

    def config(self, name: str) -> dict[str, Any]:
        """The stack's config (secrets decrypted), keys as written (``project:key``)."""
        return {key: value.value for key, value in self.workspace.get_all_config(name).items()}

    def outputs(self, name: str) -> dict[str, Any]:
        return {key: value.value for key, value in self.workspace.stack_outputs(name).items()}

    def state(self, name: str) -> list[dict[str, Any]]:
        """The resources Pulumi holds for the stack (``pulumi stack export``)."""
        deployment = self.workspace.export_stack(name).deployment or {}
        resources: list[dict[str, Any]] = deployment.get("resources") or []
        return resources


def connect(work_dir: Path = REPO_ROOT, env_vars: Mapping[str, str] | None = None) -> Backend:
    """The workspace, after checking the CLI version and that someone is logged in."""
    command = command_factory()
    if command.version is not None and command.version < MIN_CLI_VERSION:
        raise OpsError(
            f"Pulumi CLI {command.version} is too old: stack tags (the TTL) need "
            f"{MIN_CLI_VERSION} or later on self-managed backends; {INSTALL_HINT}"
        )
    workspace = LocalWorkspace(
        work_dir=str(work_dir), pulumi_command=command, env_vars=dict(env_vars or {})
    )
    try:
        who = workspace.who_am_i()
    except CommandError as error:
        raise OpsError(
            "not logged in to a Pulumi backend: run `pulumi login` (Pulumi Cloud) or "
            "`pulumi login s3://BUCKET` / `gs://BUCKET` / `--local` first "
            f"({cli_message(error)})",
            EXIT_USAGE,
        ) from None
    return Backend(workspace=workspace, user=who.user, url=who.url or "(unknown backend)")


def output_json(value: Any) -> str:
    """Stack outputs as JSON with secrets left as they came (the caller masks them)."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)
