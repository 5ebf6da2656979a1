"""``pdk``: the offline plan, stack diffs and config reference, without the Pulumi CLI.

Imports of Pulumi and the providers happen inside the commands that need them, so ``pdk --help``
and config errors answer quickly.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()  # before the imports below, so --timings covers them

import atexit
import contextlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra.config.keys import KEYS
from infra.config.problems import ConfigError
from infra.config.types import PROJECT
from infra.entry import remove_on_interrupt
from infra.ops.commands import register as register_ops
from infra.ops.predeploy import register as register_predeploy
from infra.plan.projectfile import project_config_schema, render_project_file
from infra.plan.review import DiffFormat
from infra.plan.stackfiles import REPO_ROOT, StackFileError, known_stacks

app = typer.Typer(
    help="PDK Deployer: plan, diff and inspect stacks offline. Deploy with `pulumi up`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _close_event_loop() -> None:
    """Shuts down the event loop Pulumi's runtime leaves open, as ``asyncio.run`` would (cancel
    what is pending, let it unwind, close), while the interpreter is still whole. Left to the
    garbage collector at shutdown, the loop's finalizer can meet its already closed self-pipe and
    print an "Exception ignored ... Invalid file descriptor" traceback (seen once in a benchmark
    run of `pdk plan`); closing it with tasks still pending would print "Task was destroyed"."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return
    with contextlib.suppress(Exception):
        loop = asyncio.get_event_loop_policy().get_event_loop()
        if loop.is_running() or loop.is_closed():
            return
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=5))
        loop.close()


atexit.register(_close_event_loop)
# Piped output (CI logs, `| less`) gets a fixed, wide layout instead of rich's 80 columns.
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)

EXIT_DIFFERENCES = 1
EXIT_POLICY = 1
"""`pdk plan`: planned, but a mandatory policy of the pack would block `pulumi up`."""
EXIT_USAGE = 2

StackOption = Annotated[
    str, typer.Option("--stack", "-s", help="Stack name (stacks/Pulumi.<name>.yaml).")
]


def _fail(message: str) -> typer.Exit:
    # Messages quote user values ("HOST[:PORT][/PATH]", "[hidden]"): print them as text, never
    # as rich markup, or a bracket would vanish or crash the printer.
    err.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False)
    return typer.Exit(EXIT_USAGE)


def _warn(message: str) -> None:
    err.print(Text.assemble(("warning:", "bold yellow"), " ", message), highlight=False)


def _snapshot(stack: str, timings: dict[str, float] | None = None) -> dict[str, Any]:
    """Plans one stack in this process; config and stack-file errors become clean exits, and
    the config's warnings go to stderr."""
    from infra import program  # noqa: F401 - load the program's modules up front
    from infra.plan import engine

    if timings is not None:
        timings["import"] = time.perf_counter() - _STARTED
    try:
        snapshot = engine.plan(stack)
    except (ConfigError, StackFileError) as error:
        raise _fail(str(error)) from None
    for warning in snapshot.warnings:
        _warn(warning)
    if timings is not None:
        timings["program"] = snapshot.timings["program"]
    return snapshot.to_dict()


@app.command()
def plan(
    stack: StackOption,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the stable JSON snapshot.")
    ] = False,
    timings: Annotated[
        bool, typer.Option("--timings", help="Print import/program seconds to stderr as JSON.")
    ] = False,
) -> None:
    """Show what `pulumi up` would create for STACK, offline, with secrets redacted. Exit 0:
    planned; 1: planned, but the policy pack would block `pulumi up`; 2: bad input."""
    from infra.ops.policies import render_violations, violations

    measured: dict[str, float] = {}
    snapshot = _snapshot(stack, measured)
    if as_json:
        sys.stdout.write(json.dumps(snapshot, indent=2, sort_keys=True) + "\n")
        # stdout stays the snapshot alone; the verdict goes to stderr.
        render_violations(err, snapshot, quiet=True)
    else:
        from infra.plan.render import render_plan

        render_plan(out, snapshot)
        render_violations(out, snapshot)
    if timings:
        sys.stderr.write(json.dumps({"timings": measured}) + "\n")
    if violations(snapshot):
        raise typer.Exit(EXIT_POLICY)


def _snapshot_at_ref(stack: str, ref: str) -> dict[str, Any]:
    """Plans STACK with the program and stack files as they were at git REF."""
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", ref],
        capture_output=True,
    )
    if archive.returncode != 0:
        raise _fail(f"cannot read git ref '{ref}': {archive.stderr.decode().strip()}")
    with tempfile.TemporaryDirectory(prefix="pdk-diff-") as folder:
        remove_on_interrupt(folder)
        with tempfile.TemporaryFile() as tar_file:
            tar_file.write(archive.stdout)
            tar_file.seek(0)
            with tarfile.open(fileobj=tar_file) as tar:
                tar.extractall(folder, filter="data")
        if not (Path(folder) / "infra" / "cli.py").is_file():
            raise _fail(f"git ref '{ref}' has no offline plan (infra/cli.py is missing)")
        if not (Path(folder) / "stacks" / f"Pulumi.{stack}.yaml").is_file():
            # A stack the change adds: everything in it is new.
            return {"stack": f"{stack}@{ref}", "resources": [], "outputs": {}}
        env = {**os.environ, "PYTHONPATH": folder}
        result = subprocess.run(
            [sys.executable, "-m", "infra.cli", "plan", "--stack", stack, "--json"],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
        )
    # Exit 1 is a plan the policy pack would block: still a plan to compare.
    if result.returncode not in (0, EXIT_POLICY) or not result.stdout.strip():
        raise _fail(f"planning '{stack}' at '{ref}' failed:\n{result.stderr.strip()}")
    snapshot: dict[str, Any] = json.loads(result.stdout)
    snapshot["stack"] = f"{stack}@{ref}"
    return snapshot


@app.command()
def diff(
    left: Annotated[str | None, typer.Argument(help="First stack (the 'before').")] = None,
    right: Annotated[str | None, typer.Argument(help="Second stack (the 'after').")] = None,
    stack: Annotated[
        str | None, typer.Option("--stack", "-s", help="Stack to compare against a git ref.")
    ] = None,
    against: Annotated[
        str | None,
        typer.Option(
            "--against", help="Git ref (branch, tag, commit) holding the 'before' version."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
    output_format: Annotated[
        DiffFormat,
        typer.Option(
            "--format",
            help="text, json (as --json) or markdown (for a pull-request comment; with "
            "--against and no --stack: every stack in one comment).",
        ),
    ] = DiffFormat.TEXT,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also show the stack/deployment-id "
            "labels, which always differ between two stacks.",
        ),
    ] = False,
) -> None:
    """Compare two stacks (`pdk diff onprem local`) or a stack with itself at a git ref
    (`pdk diff -s onprem --against main`). Exit 0: no differences; 1: differences."""
    from infra.plan.diff import diff_snapshots
    from infra.plan.render import render_diff

    if stack is None and against is not None and output_format == "markdown" and left is None:
        from infra.plan.review import review_comment

        text, changed = review_comment(against, _snapshot_at_ref, _snapshot)
        sys.stdout.write(text)
        raise typer.Exit(EXIT_DIFFERENCES if changed else 0)
    if stack is not None or against is not None:
        if stack is None or against is None or left is not None:
            raise _fail("use either `pdk diff A B` or `pdk diff -s STACK --against REF`")
        before, after = _snapshot_at_ref(stack, against), _snapshot(stack)
    elif left is not None and right is not None:
        before, after = _snapshot(left), _snapshot(right)
    else:
        raise _fail(
            "name two stacks (`pdk diff A B`) or a stack and a ref "
            "(`pdk diff -s STACK --against REF`)"
        )
    two_stacks = stack is None
    result = diff_snapshots(before, after, hide_identity=two_stacks and not show_all)
    if as_json or output_format == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n")
    elif output_format == "markdown":
        from infra.plan.review import render_markdown

        sys.stdout.write(render_markdown(result, stack or f"{left} → {right}"))
    else:
        render_diff(out, result)
    raise typer.Exit(0 if result.empty else EXIT_DIFFERENCES)


@app.command()
def stacks() -> None:
    """List the stacks in stacks/."""
    for name in known_stacks():
        out.print(Text(name))


@app.command("config-keys")
def config_keys() -> None:
    """List every config key with its type, default and meaning."""
    table = Table(show_lines=False)
    for column in ("key", "type", "default", "description"):
        table.add_column(column, overflow="fold")
    for key, entry in project_config_schema().items():
        default = "(required)" if "default" not in entry else json.dumps(entry["default"])
        table.add_row(
            *(
                Text(cell)
                for cell in (f"{PROJECT}:{key}", entry["type"], default, entry["description"])
            )
        )
    out.print(table)


@app.command()
def schema(
    write: Annotated[bool, typer.Option("--write", help="Rewrite Pulumi.yaml.")] = False,
) -> None:
    """Check (or --write) that Pulumi.yaml declares exactly the keys of the config models."""
    path = REPO_ROOT / "Pulumi.yaml"
    current_text = path.read_text()
    try:
        expected = render_project_file(yaml.safe_load(current_text))
    except yaml.YAMLError as error:
        raise _fail(f"Pulumi.yaml is not valid YAML: {error}") from None
    if current_text == expected:
        out.print(f"Pulumi.yaml declares all {len(KEYS)} config keys.")
        return
    if write:
        path.write_text(expected)
        out.print(f"Pulumi.yaml rewritten with {len(KEYS)} config keys.")
        return
    raise _fail("Pulumi.yaml is stale; run `pdk schema --write`.")


example_app = typer.Typer(
    help="The flow's examples (examples/<name>/): list them, or run one locally.",
    no_args_is_help=True,
)
app.add_typer(example_app, name="example")
register_predeploy(app)  # estimate, graph, preflight (infra/ops/predeploy.py)


@example_app.command("list")
def example_list() -> None:
    """List the examples and the MLDM/MLDE/KServe names each declares."""
    from pdk_assets.manifest import ManifestError, load_examples

    try:
        examples = load_examples()
    except ManifestError as error:
        raise _fail(str(error)) from None
    table = Table()
    for column in ("example", "data", "MLDM repo", "MLDE model", "InferenceService"):
        table.add_column(column)
    for manifest in examples:
        cells = (
            manifest.name,
            f"images: {', '.join(manifest.classes)}"
            if manifest.data.kind == "images"
            else manifest.data.kind,
            f"{manifest.mldm.project}/{manifest.mldm.repo}",
            manifest.mlde.model,
            manifest.serving.inference_service,
        )
        table.add_row(*(Text(cell) for cell in cells))
    out.print(table)


@example_app.command("run")
def example_run(
    name: Annotated[str, typer.Argument(help="Example folder under examples/, e.g. dog-cat.")],
    local: Annotated[
        bool, typer.Option("--local", help="Run on this machine (the only mode so far).")
    ] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Folder standing in for the MLDM data commit (default: the example's "
            "generated data).",
        ),
    ] = None,
    requests: Annotated[
        list[Path] | None,
        typer.Option(
            "--request",
            help="Request to send once served (repeatable): a .json request body, or a file "
            "the example converts (dog-cat: an image).",
        ),
    ] = None,
    max_batches: Annotated[
        int | None,
        typer.Option(
            "--max-batches", min=1, help="Training batches (default: the example's dry_run)."
        ),
    ] = None,
) -> None:
    """Run an example's flow locally: train a few batches in MLDE's local mode, export and
    archive the model, serve it with TorchServe as KServe would, and send requests."""
    # The ML stack loads here, not at import, so `pdk plan` stays fast.
    from pdk_assets.dryrun import dry_run
    from pdk_assets.manifest import EXAMPLES_DIR, ManifestError, load_manifest
    from pdk_assets.train import TrainError

    if not local:
        raise _fail(
            "only local runs exist so far: add --local (in a cluster, the stack's pipelines "
            "run the example on each data commit)"
        )
    if data is not None and not data.is_dir():
        raise _fail(f"--data {data}: not a folder; give the folder of data to train on")
    for image in requests or []:
        if not image.is_file():
            raise _fail(f"--request {image}: no such file")
    try:
        manifest = load_manifest(EXAMPLES_DIR / name)
    except ManifestError as error:
        raise _fail(f"{error}\n(examples: `pdk example list`)") from None
    from pdk_assets.kserve import DeployError
    from pdk_assets.samples import request_from_file

    try:
        cases = [request_from_file(manifest, path) for path in requests or []]
    except ManifestError as error:
        raise _fail(str(error)) from None
    try:
        result = dry_run(manifest, data=data, requests=cases, max_batches=max_batches, console=out)
    except (TrainError, DeployError) as error:
        raise _fail(str(error)) from None
    if not result.predictions:
        raise typer.Exit(1)


register_ops(app)

if __name__ == "__main__":
    from infra.entry import main

    main()
