"""``pdk ci up``: a throwaway stack made from a template stack, tagged, deployed.

Order matters for cleanup: the lifecycle tags go on right after ``stack init``, before config
and ``up``, so a run that dies at any later point leaves a stack the reaper can find.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pulumi.automation import CommandError, ConfigValue, Stack, StackAlreadyExistsError
from rich.console import Console

from infra.config.load import load_config
from infra.config.problems import ConfigError
from infra.config.types import PROJECT
from infra.ops import backend, expiry
from infra.ops.errors import EXIT_FAILED, OpsError
from infra.ops.progress import Progress
from infra.plan import cli_yaml
from infra.plan.stackfiles import REPO_ROOT, StackFileError, read_stack, stack_values

EPHEMERAL_KEY = f"{PROJECT}:ephemeral"
DEPLOYMENT_KEY = f"{PROJECT}:deploymentId"


@dataclass(frozen=True)
class UpRequest:
    template: str
    name: str
    ttl: str
    owner: str
    now: datetime
    overrides: Mapping[str, str] = field(default_factory=dict)
    """``--set KEY=VALUE`` on top of the template (keys without the project prefix), e.g. the CI
    runner's address in ``awsApiAccessCidrs``."""


@dataclass(frozen=True)
class TemplateConfig:
    """What the new stack gets: plain values, and the keys to copy encrypted from the
    template stack in the backend (``secure:`` values cannot be read from the file)."""

    plain: dict[str, str]
    secure: list[str]


def default_owner(environ: Mapping[str, str] = os.environ) -> str:
    """The CI actor when run by GitHub Actions, else the local user."""
    return environ.get("GITHUB_ACTOR") or environ.get("USER") or getpass.getuser()


def template_config(
    template: str, name: str, root: Path = REPO_ROOT, overrides: Mapping[str, str] | None = None
) -> TemplateConfig:
    """The template's stack file with ``ephemeral`` forced and the deployment id set, after
    validating the result as the program will (so a bad template fails before the backend)."""
    try:
        raw, secret_keys = read_stack(template, root)
    except StackFileError as error:
        raise OpsError(f"unknown template: {error}") from None
    forced = {**(overrides or {}), "ephemeral": "true", "deploymentId": name}
    try:
        load_config(name, {**raw, **forced}, secret_keys, deploying=True)
    except ConfigError as error:
        raise OpsError(
            f"the new stack's config (template '{template}' plus --set) is invalid:\n"
            f"{cli_yaml.explained(error, raw)}"
        ) from None
    # The values as the CLI reads the template (an unquoted 1.30 is 1.3 there too), so the new
    # stack holds exactly what the template's own `pulumi up` would pass the program.
    plain: dict[str, str] = {}
    secure: list[str] = []
    for key, (text, is_secret) in stack_values(template, root).items():
        if is_secret:
            secure.append(key)
        else:
            plain[key] = str(text)
    for key, value in forced.items():
        plain[f"{PROJECT}:{key}"] = value
        if f"{PROJECT}:{key}" in secure:
            secure.remove(f"{PROJECT}:{key}")
    return TemplateConfig(plain=plain, secure=sorted(secure))


def check_request(
    request: UpRequest, root: Path = REPO_ROOT
) -> tuple[expiry.CiTags, TemplateConfig]:
    """Every input checked before the backend is touched."""
    try:
        expiry.check_name(request.name)
        ttl = expiry.parse_ttl(request.ttl)
    except expiry.ExpiryError as error:
        raise OpsError(str(error)) from None
    config = template_config(request.template, request.name, root, request.overrides)
    tags = expiry.CiTags.new(request.owner, request.template, request.name, request.now, ttl)
    return tags, config


def _copy_secure(stack: Stack, template: str, keys: list[str]) -> None:
    """``pulumi config cp`` re-encrypts each secret for the new stack inside the CLI, so no
    secret appears in a command line or in this process."""
    workspace = stack.workspace
    for key in keys:
        try:
            workspace.pulumi_command.run(
                ["config", "cp", key, "--stack", template, "--dest", stack.name],
                workspace.work_dir,
                workspace.env_vars,
            )
        except CommandError as error:
            raise OpsError(
                f"cannot copy secret '{key}' from template stack '{template}' (it must exist in "
                f"this backend to hold its secrets): {backend.cli_message(error)}; the new "
                f"stack is tagged, remove it with `pdk ci down -s {stack.name}`",
                EXIT_FAILED,
            ) from None


def ci_up(
    request: UpRequest, console: Console, secrets_provider: str | None = None
) -> dict[str, Any]:
    """Creates, tags, configures and deploys the stack; returns its outputs (secrets masked)."""
    tags, config = check_request(request)
    connected = backend.connect()
    workspace = connected.workspace
    if secrets_provider:
        workspace.secrets_provider = secrets_provider
    console.print(
        f"creating stack {request.name} from {request.template} on {connected.url} "
        f"(owner {tags.owner}, expires {expiry.format_time(tags.expires)})"
    )
    try:
        stack = Stack.create(request.name, workspace)
    except StackAlreadyExistsError:
        raise OpsError(
            f"stack '{request.name}' already exists in {connected.url}; pick another --name "
            "or take it down first"
        ) from None
    except CommandError as error:
        raise OpsError(
            f"cannot create stack '{request.name}': {backend.cli_message(error)}", EXIT_FAILED
        ) from None
    for key, value in tags.as_tags().items():
        workspace.set_tag(request.name, key, value)
    workspace.set_all_config(
        request.name, {key: ConfigValue(value=value) for key, value in config.plain.items()}
    )
    _copy_secure(stack, request.template, config.secure)
    progress = Progress(console)
    try:
        result = stack.up(on_event=progress)
    except CommandError as error:
        raise OpsError(
            f"`up` failed for stack '{request.name}': {backend.cli_message(error)}\n"
            f"The stack is kept and tagged; take it down with `pdk ci down -s {request.name}` "
            "(the reaper does it after the TTL otherwise).",
            EXIT_FAILED,
        ) from None
    slow = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in progress.slowest())
    if slow:
        console.print(f"slowest: {slow}")
    outputs = {
        key: "[secret]" if value.secret else value.value for key, value in result.outputs.items()
    }
    _github_output({"stack": request.name, "deployment-id": request.name})
    return outputs


def _github_output(values: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> None:
    """Hands the stack name to later steps of a GitHub Actions job."""
    path = environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as file:
        for key, value in values.items():
            file.write(f"{key}={value}\n")
