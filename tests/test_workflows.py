"""The GitHub Actions workflows, read as data: triggers, permissions, the steps they must have,
and the commands they run existing in `pdk`. (GitHub itself cannot run here.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from infra.cli import app

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(document: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return list(document["jobs"][job]["steps"])


def pdk_commands(document: dict[str, Any]) -> list[list[str]]:
    """Every `pdk ...` invocation in the workflow's run steps, as words."""
    found = []
    for job in document["jobs"].values():
        for step in job["steps"]:
            for line in str(step.get("run", "")).splitlines():
                match = re.search(r"\.venv/bin/pdk ([a-z ]+?)(?: -|$| >)", line.strip())
                if match:
                    found.append(match.group(1).split())
    return found


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_every_pdk_command_a_workflow_runs_exists(name: str) -> None:
    commands = pdk_commands(load(name))
    assert commands, f"{name} runs no pdk command"
    for words in commands:
        result = CliRunner().invoke(app, [*words, "--help"])
        assert result.exit_code == 0, f"{name}: `pdk {' '.join(words)}` does not exist"


def test_plan_diff_runs_on_every_pull_request_without_cloud_credentials() -> None:
    document = load("plan-diff.yml")
    assert "pull_request" in document["on"]
    assert document["permissions"] == {"contents": "read", "pull-requests": "write"}
    text = (WORKFLOWS / "plan-diff.yml").read_text()
    assert "secrets." not in text and "id-token" not in text
    names = [step.get("name", step.get("uses", "")) for step in steps(document, "diff")]
    assert names[0] == "actions/checkout@v4"
    assert steps(document, "diff")[0]["with"]["fetch-depth"] == 0
    run = next(s["run"] for s in steps(document, "diff") if s.get("name") == "Render the diff")
    assert '--against "origin/${{ github.base_ref }}" --format markdown' in run
    script = next(s for s in steps(document, "diff") if "github-script" in s.get("uses", ""))
    # One comment, found by the marker the renderer writes, updated rather than added.
    assert "<!-- pdk-diff -->" in script["with"]["script"]
    assert "updateComment" in script["with"]["script"]


def test_throwaway_cluster_runs_up_verify_down_with_down_always() -> None:
    document = load("throwaway-cluster.yml")
    on = document["on"]
    assert on["pull_request"]["types"] == ["labeled", "synchronize"]
    assert "workflow_dispatch" in on
    job = document["jobs"]["cluster"]
    assert "ci:cluster" in job["if"] and "workflow_dispatch" in job["if"]
    assert job["timeout-minutes"] <= 4 * 60  # the default TTL: reap never races a live job
    by_name = {step.get("name"): step for step in job["steps"]}
    order = [step.get("name") for step in job["steps"]]
    assert order.index("up") < order.index("verify") < order.index("down")
    assert order.index("down") == max(
        i for i, step in enumerate(job["steps"]) if "pdk" in str(step.get("run", ""))
    )
    assert by_name["down"]["if"] == "always()"
    assert 'pdk ci down -s "$STACK"' in by_name["down"]["run"]
    assert 'pdk verify -s "$STACK" --json' in by_name["verify"]["run"]
    # The name is fixed before `up`, so `down` knows it even when `up` died halfway.
    assert '--name "$STACK"' in by_name["up"]["run"]
    assert len("ci-" + "9" * 11 + "-9") <= 17  # run ids are 10-11 digits
    # Cloud access by OIDC federation, not stored keys.
    assert document["permissions"]["id-token"] == "write"
    text = (WORKFLOWS / "throwaway-cluster.yml").read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    assert "role-to-assume: ${{ secrets.AWS_CI_ROLE_ARN }}" in text
    assert "workload_identity_provider: ${{ secrets.GCP_WORKLOAD_IDENTITY_PROVIDER }}" in text
    assert document["concurrency"]["cancel-in-progress"] is False


def _expression(condition: str, **event: Any) -> bool:
    """The job's `if:` evaluated for one event: GitHub's expression language reduced to what
    this condition uses (==, &&, ||, contains(list, value), parentheses), by rewriting it to
    Python over the event's fields."""
    text = " ".join(condition.split())
    text = re.sub(
        r"contains\(github\.event\.pull_request\.labels\.\*\.name, '([^']+)'\)",
        r"('\1' in labels)",
        text,
    )
    text = text.replace("&&", " and ").replace("||", " or ")
    text = text.replace("github.event_name", "event_name").replace("github.event.action", "action")
    text = text.replace("github.event.label.name", "label")
    return bool(eval(text, {}, {"labels": [], "label": None, "action": None, **event}))


def test_only_the_cluster_label_starts_a_cluster() -> None:
    """A PR that already carries `ci:cluster` must not start another full cluster when any other
    label is added; pushes to it re-test; the label event itself starts one."""
    condition = load("throwaway-cluster.yml")["jobs"]["cluster"]["if"]
    pr = {"event_name": "pull_request"}
    assert _expression(condition, **pr, action="labeled", label="ci:cluster", labels=["ci:cluster"])
    assert not _expression(
        condition, **pr, action="labeled", label="docs", labels=["ci:cluster", "docs"]
    )
    assert not _expression(condition, **pr, action="labeled", label="docs", labels=["docs"])
    assert _expression(condition, **pr, action="synchronize", labels=["ci:cluster"])
    assert not _expression(condition, **pr, action="synchronize", labels=["docs"])
    assert _expression(condition, event_name="workflow_dispatch")


def test_the_runner_gets_the_kubeconfig_before_it_needs_kubectl() -> None:
    """resolveHosts and the commands output run kubectl; the runner has no kubeconfig until the
    step writes the stack's secret output to a private file and exports KUBECONFIG."""
    job = load("throwaway-cluster.yml")["jobs"]["cluster"]
    names = [step.get("name") for step in job["steps"]]
    kube = next(
        step for step in job["steps"] if "kubeconfig --show-secrets" in str(step.get("run"))
    )
    assert (
        "umask 077" in kube["run"]
        and 'KUBECONFIG=$RUNNER_TEMP/kubeconfig" >> "$GITHUB_ENV"' in (kube["run"])
    )
    first_kubectl = min(
        i
        for i, step in enumerate(job["steps"])
        if "resolveHosts" in str(step.get("run")) or "verify" in str(step.get("run"))
    )
    assert names.index("up") < names.index(kube["name"]) < first_kubectl


def test_the_aws_session_outlasts_the_job_and_its_limit_is_documented() -> None:
    job = load("throwaway-cluster.yml")["jobs"]["cluster"]
    aws = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    seconds = int(aws["with"]["role-duration-seconds"])
    assert seconds >= job["timeout-minutes"] * 60  # `down` must not outlive the credentials
    assert seconds <= 43200  # the most AWS allows
    readme = (WORKFLOWS.parents[1] / "README.md").read_text()
    assert f"--max-session-duration {seconds}" in readme


def test_the_workflow_overrides_every_placeholder_of_its_templates() -> None:
    """`ci up` refuses placeholders: the up step must set each key the aws and gcp templates
    leave at a documentation value (tests/test_placeholders.py lists them)."""
    from infra.config.load import load_config
    from infra.plan.stackfiles import read_stack

    run = next(
        s["run"]
        for s in load("throwaway-cluster.yml")["jobs"]["cluster"]["steps"]
        if s.get("name") == "up"
    )
    for template in ("aws", "gcp"):
        raw, secret = read_stack(template)
        placeholders = {w.key for w in load_config(template, raw, secret).warnings if w.placeholder}
        assert placeholders
        for key in placeholders:
            assert f'"{key}=' in run, (template, key)


def test_reap_is_scheduled_capped_and_one_at_a_time() -> None:
    document = load("reap.yml")
    assert document["on"]["schedule"][0]["cron"]
    assert document["on"]["workflow_dispatch"]["inputs"]["dry_run"]["default"] is True
    assert document["concurrency"] == {"group": "reap", "cancel-in-progress": False}
    run = next(s["run"] for s in steps(document, "reap") if s.get("name") == "reap")
    assert "pdk reap --dry-run --max 3" in run and "pdk reap --max 3" in run
    logins = {s.get("uses", "").split("@")[0] for s in steps(document, "reap")}
    assert {"aws-actions/configure-aws-credentials", "google-github-actions/auth"} <= logins
