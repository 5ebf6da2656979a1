"""The ``pdk ci``, ``pdk reap`` and ``pdk verify`` commands: options in, exit codes out.

``register(app)`` adds them to the ``pdk`` Typer app; the work happens in the sibling modules.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from infra.ops import expiry
from infra.ops.errors import EXIT_FAILED, OpsError

ci_app = typer.Typer(
    help="Throwaway stacks for CI: `ci up` from a template stack with a TTL, `ci down` with a "
    "leak report. Needs the Pulumi CLI and a backend login.",
    no_args_is_help=True,
)


def _console() -> Console:
    # CI logs get plain lines (no colour codes, no wrapping at 80 columns).
    tty = sys.stdout.isatty()
    return Console(width=None if tty else 160, no_color=not tty, highlight=False, soft_wrap=not tty)


# Error messages stay on one line in logs, so they can be searched for.
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def _errors() -> Iterator[None]:
    """Known failures become one message and their exit code, never a traceback."""
    # Imported here: the Automation API (and grpc) would slow down every other `pdk` command.
    from pulumi.automation import CommandError

    from infra.ops.backend import cli_message

    try:
        yield
    except OpsError as error:
        err.print(f"[bold red]error:[/] {error.message}", highlight=False)
        raise typer.Exit(error.exit_code) from None
    except CommandError as error:
        err.print(f"[bold red]error:[/] pulumi: {cli_message(error)}", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None


StackOption = Annotated[str, typer.Option("--stack", "-s", help="Stack name in the backend.")]


@ci_app.command("up")
def ci_up_command(
    template: Annotated[
        str, typer.Option("--stack", "-s", help="Template stack (stacks/Pulumi.<name>.yaml).")
    ],
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help=f"New stack's name, also its deployment id (at most {expiry.MAX_NAME_LENGTH} "
            "characters). Default: ci-<template>-<random>.",
        ),
    ] = None,
    ttl: Annotated[
        str, typer.Option("--ttl", help="Time to live (e.g. 90m, 4h, 1d); `pdk reap` acts after.")
    ] = expiry.DEFAULT_TTL,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owner tag. Default: $GITHUB_ACTOR or $USER.")
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="KEY=VALUE on top of the template's config (repeatable), e.g. "
            "awsApiAccessCidrs=203.0.113.7/32 for the CI runner.",
        ),
    ] = None,
    secrets_provider: Annotated[
        str | None,
        typer.Option(
            "--secrets-provider",
            help="For the new stack (awskms://..., gcpkms://...). Default: the backend's "
            "(a passphrase from PULUMI_CONFIG_PASSPHRASE on self-managed backends).",
        ),
    ] = None,
) -> None:
    """Create a stack from TEMPLATE's config (ephemeral forced, its own deployment id), tag it
    with owner, creation and expiry, run `up` with progress, and print its outputs."""
    from infra.ops import ci_up

    with _errors():
        overrides = {}
        for setting in settings or []:
            key, equals, value = setting.partition("=")
            if not equals or not key:
                raise OpsError(f"--set {setting!r}: write KEY=VALUE, e.g. --set gpuEnabled=false")
            overrides[key.removeprefix("pdk-deployer:")] = value
        request = ci_up.UpRequest(
            template=template,
            name=name or expiry.default_name(template),
            ttl=ttl,
            owner=owner or ci_up.default_owner(),
            now=datetime.now(UTC),
            overrides=overrides,
        )
        outputs = ci_up.ci_up(request, _console(), secrets_provider=secrets_provider)
    sys.stdout.write(json.dumps(outputs, indent=2, sort_keys=True, default=str) + "\n")


@ci_app.command("down")
def ci_down_command(
    stack: StackOption,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Also take down a stack that is not ephemeral, and remove the stack record "
            "even if leaks remain.",
        ),
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write the leak report as JSON here.")
    ] = None,
) -> None:
    """Delete what the cluster created outside Pulumi's state (LoadBalancer Services,
    Gateways, Ingresses, PVCs) and wait, `destroy`, query the cloud for anything still
    carrying the deployment id, print the leak report, and `stack rm` only when it is clean.
    Exit 0: clean; 1: destroy failed or leaks (stack kept); 2: refused or bad input."""
    from infra.ops import ci_down

    with _errors():
        if report is not None and not report.parent.is_dir():
            # Checked before anything is destroyed: a typo here must not cost the report.
            raise OpsError(f"--report {report}: {report.parent} is not a folder; create it first")
        result = ci_down.ci_down(stack, _console(), force=force, report_path=report)
    raise typer.Exit(result.exit_code)


def reap_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be taken down; change nothing.")
    ] = False,
    max_stacks: Annotated[
        int, typer.Option("--max", min=1, help="Take down at most this many stacks per run.")
    ] = 3,
) -> None:
    """Take down throwaway stacks whose TTL has passed (oldest first, at most --max per run),
    each as `pdk ci down` does. Only stacks `pdk ci up` tagged are considered."""
    from infra.ops import reap

    with _errors():
        result = reap.reap(_console(), datetime.now(UTC), dry_run=dry_run, max_stacks=max_stacks)
    raise typer.Exit(result.exit_code)


def verify_command(
    stack: StackOption,
    experiment: Annotated[
        bool,
        typer.Option(
            "--experiment", help="Also run a tiny CPU experiment that writes a checkpoint."
        ),
    ] = False,
    flow: Annotated[
        bool,
        typer.Option(
            "--flow",
            help="Also commit the example's sample data, wait for train and deploy, predict.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    timeout: Annotated[
        int, typer.Option("--timeout", min=10, help="Seconds to wait for pods to be Ready.")
    ] = 600,
) -> None:
    """Check a deployed stack works: nodes Ready, GPUs allocatable, Helm releases deployed and
    pods Ready, MLDM (create/delete a repo), MLDE (login), a model through the gateway.
    Exit 1 if any check fails."""
    from infra.ops import verify_run

    with _errors():
        results = verify_run.verify(stack, _console(), experiment, flow, as_json, timeout)
    raise typer.Exit(EXIT_FAILED if any(r.failed for r in results) else 0)


def register(app: typer.Typer) -> None:
    """Adds ``ci up``, ``ci down``, ``reap`` and ``verify`` to the ``pdk`` app."""
    app.add_typer(ci_app, name="ci")
    commands: list[tuple[str, Callable[..., None]]] = [
        ("reap", reap_command),
        ("verify", verify_command),
    ]
    for command_name, function in commands:
        app.command(command_name)(function)
