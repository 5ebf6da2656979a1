"""`pdk ci up`, `pdk ci down` and `pdk reap` through the Automation API's own seam.

The SDK's real ``LocalWorkspace``/``Stack`` code builds every command line and parses every
answer; only the CLI binary is replaced (``tests/pulumi_fake.py``), and engine events travel
over the SDK's real gRPC events server. The AWS leak query runs against moto. What this cannot
show: that the real CLI and engine do what the fake scripts (no Pulumi CLI or cloud here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from infra.cli import app
from infra.ops import backend
from tests.pulumi_fake import FakePulumi

runner = CliRunner()
REGION = "us-east-2"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePulumi:
    cli = FakePulumi()
    monkeypatch.setattr(backend, "command_factory", lambda: cli)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    return cli


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _pdk(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


CLUSTER_URN = (
    "urn:pulumi:ci-aws-1::pdk-deployer::pdk:target:AwsCluster$aws:eks/cluster:Cluster::eks"
)
PROVIDER = {
    "type": "pulumi:providers:aws",
    "urn": "urn:pulumi:ci-aws-1::pdk-deployer::pulumi:providers:aws::aws",
    "inputs": {"region": REGION},
}


AWS_OWN_VALUES = (
    "--set",
    "awsApiAccessCidrs=198.18.0.7/32",
    "--set",
    "exposeSourceRanges=10.0.0.0/8,198.18.0.7/32",
    "--set",
    "kserveDomain=ci.pdk.test",
)
"""What the workflow sets over the aws template's placeholders (198.18.0.0/15 is the
benchmarking range of RFC 2544, not a documentation one)."""


def _aws_stack(fake: FakePulumi, name: str = "ci-aws-1", ephemeral: bool = True) -> None:
    """A stack as `ci up` leaves it: tags, config, outputs and state with an EKS cluster."""
    fake.up_resources = [
        PROVIDER,
        {"type": "aws:eks/cluster:Cluster", "urn": CLUSTER_URN, "outputs": {"name": "c1"}},
    ]
    code, output = _pdk("ci", "up", "-s", "aws", "--name", name, "--owner", "ci", *AWS_OWN_VALUES)
    assert code == 0, output
    if not ephemeral:
        fake.stacks[name].tags.clear()
        fake.stacks[name].config["pdk-deployer:ephemeral"] = ("false", False)
    fake.calls.clear()


def test_ci_up_creates_tags_configures_and_deploys_in_that_order(
    fake: FakePulumi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    github_output = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(github_output))
    fake.up_resources = [
        {
            "type": "kubernetes:helm.sh/v3:Release",
            "urn": "urn:pulumi:s::p::pdk$kubernetes:helm.sh/v3:Release::mldm",
        }
    ]
    fake.up_outputs = {
        "deploymentId": ("ci-local-1", False),
        "kubeconfig": ("apiVersion: v1", True),
    }
    code, output = _pdk(
        "ci", "up", "-s", "local", "--name", "ci-local-1", "--ttl", "2h", "--owner", "bob"
    )
    assert code == 0, output
    commands = fake.commands()
    assert commands[:3] == [
        "whoami --json",
        "stack init ci-local-1",
        "stack tag set pdk:owner bob --stack ci-local-1",
    ]
    tag_lines = [c for c in commands if c.startswith("stack tag set")]
    assert [line.split()[3] for line in tag_lines] == [
        "pdk:owner",
        "pdk:created",
        "pdk:expires",
        "pdk:template",
        "pdk:deployment-id",
        "pdk:ephemeral",
    ]
    config = next(c for c in commands if c.startswith("config set-all"))
    # Tags before config and up: a run dying later still leaves a stack the reaper finds.
    assert commands.index(tag_lines[-1]) < commands.index(config)
    assert "--plaintext pdk-deployer:ephemeral=true" in config
    assert "--plaintext pdk-deployer:deploymentId=ci-local-1" in config
    assert "--plaintext pdk-deployer:target=existing" in config
    assert commands[commands.index(config) + 1] == (
        "up --yes --skip-preview --exec-kind auto.local --event-log EVENTS --stack ci-local-1"
    )
    stack = fake.stacks["ci-local-1"]
    created, expires = stack.tags["pdk:created"], stack.tags["pdk:expires"]
    assert int(expires[11:13]) - int(created[11:13]) in (2, -22)
    # One progress line per resource event, the outputs with the secret masked.
    assert "+ kubernetes:helm.sh/v3:Release mldm  create\n" in output
    assert "create done in 30s" in output
    printed = json.loads(output[output.index("{") :])
    assert printed == {"deploymentId": "ci-local-1", "kubeconfig": "[secret]"}
    assert "apiVersion: v1" not in output
    assert github_output.read_text() == "stack=ci-local-1\ndeployment-id=ci-local-1\n"


def test_ci_up_refuses_an_existing_stack(fake: FakePulumi) -> None:
    fake.stacks["ci-local-1"] = __import__("tests.pulumi_fake").pulumi_fake.FakeStack()
    code, output = _pdk("ci", "up", "-s", "local", "--name", "ci-local-1")
    assert code == 2
    assert "stack 'ci-local-1' already exists" in output
    assert not any(c.startswith(("stack tag", "config", "up")) for c in fake.commands())


def test_ci_up_failure_keeps_the_tagged_stack_and_exits_1(fake: FakePulumi) -> None:
    fake.fail["up"] = "creating EKS cluster: AccessDenied"
    code, output = _pdk("ci", "up", "-s", "local", "--name", "ci-local-2")
    assert code == 1
    assert "`up` failed for stack 'ci-local-2': error: creating EKS cluster: AccessDenied" in output
    assert "pdk ci down -s ci-local-2" in output
    assert fake.stacks["ci-local-2"].tags["pdk:ephemeral"] == "true"
    assert not any(c.startswith(("destroy", "stack rm")) for c in fake.commands())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "nope"], "unknown template: Unknown stack 'nope'"),
        (["-s", "local", "--ttl", "soon"], "TTL 'soon' does not parse"),
        (["-s", "local", "--name", "ci-name-far-too-long-x"], "at most 17 fit"),
        (["-s", "local", "--name", "Bad_Name"], "lowercase letters"),
    ],
)
def test_ci_up_bad_input_touches_no_backend(
    fake: FakePulumi, args: list[str], message: str
) -> None:
    code, output = _pdk("ci", "up", *args)
    assert code == 2
    assert message in " ".join(output.split())
    assert "Traceback" not in output
    assert fake.calls == []


def test_ci_up_copies_secrets_inside_the_cli(
    fake: FakePulumi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A template's `secure:` value is copied with `config cp`, never through our argv."""
    from infra.ops import ci_up

    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.site.yaml").write_text(
        "config:\n  pdk-deployer:target: existing\n  pdk-deployer:kserveDomain: pdk.test\n"
        "  pdk-deployer:kubeconfig:\n    secure: v1:abc\n"
    )
    config = ci_up.template_config("site", "ci-site-1", tmp_path)
    assert config.secure == ["pdk-deployer:kubeconfig"]
    assert "pdk-deployer:kubeconfig" not in config.plain
    from pulumi.automation import LocalWorkspace, Stack

    from tests.pulumi_fake import FakeStack

    fake.stacks["site"] = FakeStack(config={"pdk-deployer:kubeconfig": ("apiVersion: v1", True)})
    fake.stacks["ci-site-1"] = FakeStack()
    workspace = LocalWorkspace(work_dir=str(tmp_path), pulumi_command=fake)
    ci_up._copy_secure(Stack.select("ci-site-1", workspace), "site", config.secure)
    assert fake.commands()[-1] == "config cp pdk-deployer:kubeconfig --stack site --dest ci-site-1"
    assert fake.stacks["ci-site-1"].config["pdk-deployer:kubeconfig"] == ("apiVersion: v1", True)


def test_old_cli_is_refused_before_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    old = FakePulumi(version="3.200.0")
    monkeypatch.setattr(backend, "command_factory", lambda: old)
    code, output = _pdk("reap", "--dry-run")
    assert code == 2
    assert "Pulumi CLI 3.200.0 is too old" in output
    assert old.calls == []


def test_ci_down_clean_destroys_checks_and_removes(
    fake: FakePulumi, aws: None, tmp_path: Path
) -> None:
    _aws_stack(fake)
    report = tmp_path / "leaks.json"
    code, output = _pdk("ci", "down", "-s", "ci-aws-1", "--report", str(report))
    assert code == 0, output
    commands = fake.commands()
    assert commands == [
        "whoami --json",
        "stack select --stack ci-aws-1",
        "stack tag ls --json --stack ci-aws-1",
        "config --show-secrets --json --stack ci-aws-1",
        "stack export --show-secrets --stack ci-aws-1",
        "stack output --json --stack ci-aws-1",
        "stack output --json --show-secrets --stack ci-aws-1",
        "destroy --skip-preview --yes --exec-kind auto.local --event-log EVENTS --stack ci-aws-1",
        "stack history --json --show-secrets --page-size 1 --page 1 --stack ci-aws-1",
        "stack rm --yes ci-aws-1",
    ]
    assert "- aws:eks/cluster:Cluster eks  delete done in 30s" in output
    assert "leak report for ci-aws-1: clean" in output
    document = json.loads(report.read_text())
    assert document["clean"] is True
    assert "tagging API in us-east-2: kubernetes.io/cluster/c1=*" in document["queried"]
    assert "ci-aws-1" not in fake.stacks


def test_ci_down_with_a_leak_keeps_the_stack_and_exits_1(fake: FakePulumi, aws: None) -> None:
    _aws_stack(fake)
    ec2 = boto3.client("ec2", region_name=REGION)
    volume = ec2.create_volume(
        AvailabilityZone=f"{REGION}a",
        Size=10,
        TagSpecifications=[
            {
                "ResourceType": "volume",
                "Tags": [{"Key": "pdk-deployer/deployment-id", "Value": "ci-aws-1"}],
            }
        ],
    )["VolumeId"]
    code, output = _pdk("ci", "down", "-s", "ci-aws-1")
    assert code == 1
    assert volume in output and "ec2:volume" in output
    assert "stack 'ci-aws-1' is kept" in " ".join(output.split())
    assert not any(c.startswith("stack rm") for c in fake.commands())
    assert "ci-aws-1" in fake.stacks


def test_ci_down_destroy_failure_keeps_the_stack_and_skips_the_rest(
    fake: FakePulumi, aws: None
) -> None:
    _aws_stack(fake)
    fake.fail["destroy"] = "deleting subnet: DependencyViolation"
    code, output = _pdk("ci", "down", "-s", "ci-aws-1")
    assert code == 1
    assert "destroy failed: error: deleting subnet: DependencyViolation" in output
    assert "rerun `pdk ci down -s ci-aws-1`" in output
    assert fake.commands()[-1].startswith("destroy ")
    assert "ci-aws-1" in fake.stacks


def test_ci_down_refuses_a_stack_that_is_not_ephemeral(fake: FakePulumi, aws: None) -> None:
    _aws_stack(fake, ephemeral=False)
    code, output = _pdk("ci", "down", "-s", "ci-aws-1")
    assert code == 2
    assert "is not ephemeral" in output and "--force" in output
    assert not any(c.startswith(("destroy", "stack rm")) for c in fake.commands())
    code, output = _pdk("ci", "down", "-s", "ci-aws-1", "--force")
    assert code == 0, output
    assert "ci-aws-1" not in fake.stacks


def test_ci_down_unknown_stack(fake: FakePulumi) -> None:
    code, output = _pdk("ci", "down", "-s", "ci-gone")
    assert code == 2
    assert "has no stack 'ci-gone'" in output


def test_reap_without_a_backend_login_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    cli = FakePulumi(user=None)
    monkeypatch.setattr(backend, "command_factory", lambda: cli)
    code, output = _pdk("reap")
    assert code == 2
    assert "not logged in to a Pulumi backend: run `pulumi login`" in " ".join(output.split())
    assert cli.commands() == ["whoami --json"]


def _expire(fake: FakePulumi, name: str, when: str) -> None:
    fake.stacks[name].tags["pdk:expires"] = when


def test_reap_takes_down_only_expired_ci_stacks_up_to_the_cap(fake: FakePulumi, aws: None) -> None:
    for name in ("ci-aws-1", "ci-aws-2", "ci-aws-3"):
        _aws_stack(fake, name)
    _expire(fake, "ci-aws-1", "2026-01-01T00:00:00Z")
    _expire(fake, "ci-aws-2", "2026-01-02T00:00:00Z")
    _aws_stack(fake, "keep-me", ephemeral=False)
    code, output = _pdk("reap", "--dry-run", "--max", "1")
    assert code == 0, output
    assert "would take down" in output and "next run (--max 1)" in output
    assert not any(c.startswith("destroy") for c in fake.commands())
    assert "kept keep-me: not a CI stack" in output
    code, output = _pdk("reap", "--max", "1")
    assert code == 0, output
    destroyed = [c.split()[-1] for c in fake.commands() if c.startswith("destroy")]
    assert destroyed == ["ci-aws-1"]
    assert set(fake.stacks) == {"ci-aws-2", "ci-aws-3", "keep-me"}


def test_ci_up_set_overrides_the_template_and_is_validated(fake: FakePulumi) -> None:
    code, output = _pdk("ci", "up", "-s", "aws", "--name", "ci-aws-9", *AWS_OWN_VALUES)
    assert code == 0, output
    config = next(c for c in fake.commands() if c.startswith("config set-all"))
    assert "--plaintext pdk-deployer:awsApiAccessCidrs=198.18.0.7/32" in config
    assert "203.0.113.0/24 " not in config.split("awsApiAccessCidrs")[1][:20]
    fake.calls.clear()
    code, output = _pdk("ci", "up", "-s", "aws", "--set", "awsApiAccessCidrs=everyone")
    assert code == 2 and "awsApiAccessCidrs" in output and "(template 'aws' plus --set)" in output
    assert fake.calls == []


def test_every_target_can_be_taken_down_with_a_leak_check() -> None:
    from infra.targets import TARGETS

    assert {name: spec.cleanup is not None for name, spec in TARGETS.items()} == {
        name: True for name in TARGETS
    }


def test_ci_up_refuses_the_templates_placeholders_before_the_backend(fake: FakePulumi) -> None:
    """The committed aws template holds documentation ranges and example.com: `ci up` deploys,
    so it names each key to set and touches nothing."""
    code, output = _pdk("ci", "up", "-s", "aws", "--set", "awsApiAccessCidrs=198.18.0.7/32")
    assert code == 2, output
    assert "exposeSourceRanges" in output and "kserveDomain" in output
    assert "awsApiAccessCidrs" not in output.split("invalid")[1]
    assert "pulumi up refuses placeholders" in output and "Traceback" not in output
    assert fake.calls == []
