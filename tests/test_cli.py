"""The `pdk` command as a user runs it: a separate process, real stack files, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.plan.stackfiles import REPO_ROOT

LOCAL = (REPO_ROOT / "stacks" / "Pulumi.local.yaml").read_text()


def pdk(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "infra.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_project(tmp_path: Path) -> Path:
    """A throwaway copy of the project whose stack files a test may edit."""
    root = tmp_path / "repo"
    for name in ("infra", "stacks"):
        shutil.copytree(REPO_ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    return root


def test_plan_json_is_stable_and_redacted() -> None:
    first, second = pdk("plan", "-s", "local", "--json"), pdk("plan", "-s", "local", "--json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    document = json.loads(first.stdout)
    assert set(document) == {"stack", "resources", "outputs"}
    assert document["stack"] == "local"
    for resource in document["resources"]:
        assert {"type", "name", "parent", "inputs", "dependencies"} <= set(resource)
    assert "mock-generated-secret" not in first.stdout


def test_plan_prints_components_counts_and_outputs() -> None:
    result = pdk("plan", "-s", "onprem")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Plan for stack 'onprem'" in text
    assert "pdk:target:InClusterPostgres cluster-postgres" in text
    assert "StatefulSet cluster-postgres-server" in text and "[protected]" in text
    assert "Resources by type" in text and "kubernetes:core/v1:Secret" in text
    assert "Stack outputs" in text and "findResourcesCommand" in text


def test_unknown_stack_lists_the_known_ones() -> None:
    result = pdk("plan", "-s", "staging")
    assert result.returncode == 2
    assert "Unknown stack 'staging'. Known stacks: aws, gcp, local, onprem." in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_invalid_config_fails_once_without_traceback(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    (root / "stacks" / "Pulumi.broken.yaml").write_text(
        "config:\n  pdk-deployer:target: existing\n  pdk-deployer:sharedFsType: nfs\n"
        "  pdk-deployer:postgresStorageSize: lots\n"
    )
    result = pdk("plan", "-s", "broken", cwd=root)
    assert result.returncode == 2
    assert "Stack 'broken' has 2 configuration problems:" in result.stderr
    assert "sharedFsNfsServer" in result.stderr and "postgresStorageSize" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing was planned


def test_stack_file_that_is_not_yaml(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    (root / "stacks" / "Pulumi.bad.yaml").write_text("config: [unclosed\n")
    result = pdk("plan", "-s", "bad", cwd=root)
    assert result.returncode == 2
    assert "stacks/Pulumi.bad.yaml is not valid YAML" in result.stderr


def test_diff_of_a_stack_with_itself_is_empty() -> None:
    result = pdk("diff", "local", "local")
    assert result.returncode == 0, result.stderr
    assert "no differences" in result.stdout


def test_diff_between_stacks_shows_changed_properties() -> None:
    result = pdk("diff", "local", "onprem")
    assert result.returncode == 1, result.stderr
    # A new volume source is a force-new input: the volume is replaced, and said so first.
    lines = result.stdout.splitlines()
    first = [line for line in lines[: lines.index(next(x for x in lines if "->" in x))]]
    assert first and all(line.startswith("DATA LOSS: ") for line in first)
    assert (
        "DATA LOSS: replace PersistentVolume cluster-shared-fs-volume-default loses the "
        "volume's data"
    ) in first
    assert "+- PersistentVolume cluster-shared-fs-volume-default  (replace:" in result.stdout
    assert "inputs.spec.nfs.server: (absent) -> 'nfs.pdk.internal'" in result.stdout
    assert "protect: False -> True" in result.stdout
    assert "labels hidden" in result.stdout
    shown = pdk("diff", "local", "onprem", "--all")
    assert "pdk-deployer/stack: 'local' -> 'onprem'" in shown.stdout


def test_diff_json() -> None:
    result = pdk("diff", "local", "onprem", "--json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["left"] == "local" and document["right"] == "onprem"
    # onprem adds the GPU device plugin, Istio and Knative (local is CPU-only RawDeployment).
    assert not document["removed"]
    assert {"gpu-device-plugin", "istio-istiod", "knative-core"} <= {
        r["name"] for r in document["added"]
    }
    assert {
        "type": "kubernetes:core/v1:PersistentVolume",
        "name": "cluster-shared-fs-volume-default",
    } in [{"type": c["type"], "name": c["name"]} for c in document["changed"]]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_against_a_git_ref(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    git: Callable[..., subprocess.CompletedProcess[str]] = lambda *a: subprocess.run(  # noqa: E731
        ["git", "-C", str(root), *a], capture_output=True, text=True, check=True
    )
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    stack_file = root / "stacks" / "Pulumi.local.yaml"
    stack_file.write_text(
        stack_file.read_text().replace("postgresStorageSize: 5Gi", "postgresStorageSize: 8Gi")
    )
    result = pdk("diff", "-s", "local", "--against", "HEAD", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "local@HEAD -> local" in result.stdout
    assert "requests.storage: '5Gi' -> '8Gi'" in result.stdout
    git("checkout", "--", ".")
    assert pdk("diff", "-s", "local", "--against", "HEAD", cwd=root).returncode == 0
    missing = pdk("diff", "-s", "local", "--against", "no-such-ref", cwd=root)
    assert missing.returncode == 2 and "cannot read git ref 'no-such-ref'" in missing.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_against_a_ref_from_a_subfolder_finds_no_false_changes(tmp_path: Path) -> None:
    """Run from infra/, the flow's image contexts used to read as changed ('.' -> the absolute
    checkout): they were relative to the working folder, not the project's."""
    root = copy_project(tmp_path)
    for name in ("examples", "images", "pdk_assets"):
        shutil.copytree(REPO_ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "requirements.txt", ".dockerignore"):
        shutil.copy(REPO_ROOT / name, root / name)
    for args in (("init", "-q"), ("add", "."), ("commit", "-qm", "base")):
        subprocess.run(
            ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
            check=True,
            capture_output=True,
        )
    result = subprocess.run(
        # -P: the folder is not put on sys.path (as for the installed `pdk`), or infra/platform
        # would shadow the standard library's `platform`.
        [sys.executable, "-P", "-m", "infra.cli", "diff", "-s", "onprem", "--against", "HEAD"],
        cwd=root / "infra",
        env={**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no differences" in result.stdout


def test_plan_is_the_same_from_any_folder() -> None:
    here = pdk("plan", "-s", "onprem", "--json")
    below = subprocess.run(
        [sys.executable, "-P", "-m", "infra.cli", "plan", "-s", "onprem", "--json"],
        cwd=REPO_ROOT / "infra",
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert here.returncode == below.returncode == 0, below.stderr
    assert json.loads(here.stdout) == json.loads(below.stdout)


def test_a_stack_file_that_is_not_utf8_is_named_without_a_traceback(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    (root / "stacks" / "Pulumi.latin.yaml").write_bytes(
        "config:\n  pdk-deployer:target: existing\n  # caf\u00e9\n".encode("latin-1")
    )
    result = pdk("plan", "-s", "latin", cwd=root)
    assert result.returncode == 2, result.stderr
    assert "stacks/Pulumi.latin.yaml is not UTF-8 text (byte 0xe9" in result.stderr
    assert "Traceback" not in result.stderr
    listed = pdk("diff", "latin", "local", cwd=root)
    assert listed.returncode == 2 and "not UTF-8" in listed.stderr


def test_plan_exits_1_when_the_policy_pack_would_block_the_update(tmp_path: Path) -> None:
    """A config the loader allows (with a warning) that a mandatory policy refuses: the plan is
    shown, and the exit code says `pulumi up --policy-pack policy` would stop."""
    root = copy_project(tmp_path)
    shutil.copytree(REPO_ROOT / "policy", root / "policy", ignore=shutil.ignore_patterns("venv"))
    (root / "stacks" / "Pulumi.open.yaml").write_text(
        "config:\n  pdk-deployer:target: existing\n  pdk-deployer:kserveDomain: pdk.test\n"
        "  pdk-deployer:gpuEnabled: false\n  pdk-deployer:exposeSourceRanges: 0.0.0.0/0\n"
    )
    shown = pdk("plan", "-s", "open", cwd=root)
    assert shown.returncode == 1, shown.stderr
    assert "no-open-ingress" in shown.stdout and "would block this update" in shown.stdout
    as_json = pdk("plan", "-s", "open", "--json", cwd=root)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["stack"] == "open"  # stdout stays the snapshot
    assert "no-open-ingress" in as_json.stderr
    assert pdk("plan", "-s", "local", cwd=root).returncode == 0


def test_diff_needs_two_stacks_or_a_ref() -> None:
    result = pdk("diff", "local")
    assert result.returncode == 2
    assert "name two stacks" in result.stderr


def test_stacks_and_config_keys() -> None:
    assert pdk("stacks").stdout.split() == ["aws", "gcp", "local", "onprem"]
    keys = pdk("config-keys").stdout
    assert "pdk-deployer:sharedFsNfsServer" in keys and "(required)" in keys


def test_schema_check_detects_a_stale_pulumi_yaml(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    assert pdk("schema", cwd=root).returncode == 0
    project = root / "Pulumi.yaml"
    project.write_text(project.read_text().replace("default: 20Gi", "default: 10Gi"))
    stale = pdk("schema", cwd=root)
    assert stale.returncode == 2 and "Pulumi.yaml is stale" in stale.stderr
    assert pdk("schema", "--write", cwd=root).returncode == 0
    assert pdk("schema", cwd=root).returncode == 0


def test_messages_print_verbatim_without_markup(tmp_path: Path) -> None:
    """Defect class 1: messages went through rich markup, so '[/PATH]' in the registry message
    crashed the printer with a MarkupError and '[hidden]' vanished."""
    root = copy_project(tmp_path)
    (root / "stacks" / "Pulumi.brackets.yaml").write_text(
        "config:\n  pdk-deployer:target: existing\n"
        "  pdk-deployer:registry: https://registry.example.com/pdk\n"
        "  pdk-deployer:kubeconfig: 'apiVersion: v1'\n"
        "  pdk-deployer:deploymentId: '[red]x[/red]'\n"
    )
    result = pdk("plan", "-s", "brackets", cwd=root)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "MarkupError" not in result.stderr
    text = " ".join(result.stderr.split())  # undo the console's line wrapping
    assert "Allowed: HOST[:PORT][/PATH] without scheme or tag" in text
    assert "pdk-deployer:kubeconfig = '[hidden]': is stored in plain text" in text
    assert "pdk-deployer:deploymentId = '[red]x[/red]'" in text


def test_plan_prints_warnings_and_still_plans(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    (root / "stacks" / "Pulumi.open.yaml").write_text(
        LOCAL.replace("exposeServiceType: NodePort", "exposeServiceType: LoadBalancer").replace(
            "pdk-deployer:istioEnabled: false",
            "pdk-deployer:istioEnabled: false\n  pdk-deployer:exposeSourceRanges: 0.0.0.0/0",
        )
    )
    result = pdk("plan", "-s", "open", "--json", cwd=root)
    # Planned in full; exit 1 because the policy pack's no-open-ingress would block the update.
    assert result.returncode == 1, result.stderr
    text = " ".join(result.stderr.split())
    assert "warning: pdk-deployer:exposeSourceRanges = '0.0.0.0/0': 0.0.0.0/0 lets anyone" in text
    assert json.loads(result.stdout)["resources"]


def test_stack_name_unfit_for_names_fails_before_planning(tmp_path: Path) -> None:
    """Defect class 2: an underscore in the stack name made invalid bucket names."""
    root = copy_project(tmp_path)
    (root / "stacks" / "Pulumi.team_alpha.yaml").write_text(LOCAL)
    result = pdk("plan", "-s", "team_alpha", "--json", cwd=root)
    assert result.returncode == 2
    assert "the stack name 'team_alpha' would be the deployment id" in " ".join(
        result.stderr.split()
    )
    assert result.stdout == ""


def test_plan_closes_pulumis_event_loop_before_the_interpreter_exits() -> None:
    """An event loop left open is closed by its finalizer during interpreter shutdown, where it
    can print an "Exception ignored" traceback. A probe registered before the CLI is imported
    runs after the CLI's exit handlers, and sees the loop of the plan already closed."""
    code = (
        "import asyncio, atexit, sys\n"
        "policy = asyncio.get_event_loop_policy()\n"
        "atexit.register(lambda: print('loop closed:', policy.get_event_loop().is_closed()))\n"
        "sys.argv = ['pdk', 'plan', '-s', 'local', '--json']\n"
        "from infra.cli import app\n"
        "app()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "loop closed: True"
    assert "Exception ignored" not in result.stderr
    assert "Task was destroyed" not in result.stderr
