"""The entry point `pulumi up` runs: config read from the language host's environment, errors
reported without a traceback and before any resource is registered."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from pulumi.runtime import config as runtime_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config.load import load_config
from infra.config.types import PROJECT
from infra.plan import engine
from infra.program import run, runtime_stack_config
from tests.conftest import KUBECONFIG


@pytest.fixture
def pulumi_env(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Sets config the way the Pulumi language host does: PULUMI_CONFIG* variables."""

    def apply(config: dict[str, str], secret: list[str] = ()) -> None:  # type: ignore[assignment]
        monkeypatch.setenv(
            "PULUMI_CONFIG",
            json.dumps(
                {f"{PROJECT}:{k}": v for k, v in config.items()} | {"kubernetes:context": "x"}
            ),
        )
        monkeypatch.setenv(
            "PULUMI_CONFIG_SECRET_KEYS", json.dumps([f"{PROJECT}:{k}" for k in secret])
        )
        runtime_config.set_all_config({}, [])

    return apply


def test_runtime_config_reads_the_project_namespace_only(pulumi_env: Any) -> None:
    pulumi_env({"target": "existing", "kubeconfig": KUBECONFIG}, ["kubeconfig"])
    raw, secret = runtime_stack_config()
    assert raw == {"target": "existing", "kubeconfig": KUBECONFIG}
    assert secret == frozenset({"kubeconfig"})


def test_bad_config_stops_the_program_before_any_registration(pulumi_env: Any) -> None:
    pulumi_env({"target": "existing", "sharedFsType": "nfs", "kserveDomain": "pdk.test"})
    monitor = engine.use_mock_engine("ci")
    with pytest.raises(pulumi.RunError) as caught:
        _sync_await(run_pulumi_func(run))
    assert "Stack 'ci' has 1 configuration problem:" in str(caught.value)
    assert "sharedFsNfsServer" in str(caught.value)
    assert monitor.recorded == {}


def test_good_config_registers_the_stack(pulumi_env: Any) -> None:
    pulumi_env({"target": "existing", "gpuEnabled": "false", "kserveDomain": "pdk.test"})
    monitor = engine.use_mock_engine("ci")
    _sync_await(run_pulumi_func(run))
    types = {record.type for record in monitor.recorded.values()}
    assert "kubernetes:apps/v1:StatefulSet" in types


@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "update"])
def test_placeholders_warn_in_a_preview_and_stop_the_update(
    pulumi_env: Any, monkeypatch: pytest.MonkeyPatch, dry_run: bool
) -> None:
    """A documentation range and the example.com default: `pulumi preview` warns, the update of
    `pulumi up` stops before anything is registered. The seam: the mock engine's dry-run flag
    (tests/test_rig_placeholders.py runs the real CLI)."""
    said: list[str] = []
    monkeypatch.setattr(pulumi, "warn", said.append)
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: dry_run)
    pulumi_env({"target": "existing", "gpuEnabled": "false", "exposeSourceRanges": "192.0.2.0/24"})
    monitor = engine.use_mock_engine("ci")
    if dry_run:
        _sync_await(run_pulumi_func(run))
        assert sum("pulumi up refuses placeholders" in message for message in said) == 2
        assert monitor.recorded
        return
    with pytest.raises(pulumi.RunError) as caught:
        _sync_await(run_pulumi_func(run))
    message = str(caught.value)
    assert "2 configuration problems" in message
    assert "exposeSourceRanges" in message and "192.0.2.0/24 (RFC 5737)" in message
    assert "kserveDomain = 'example.com'" in message
    assert monitor.recorded == {}


def test_kubeconfig_reaches_the_provider_as_a_secret() -> None:
    config = load_config(
        "ci",
        {"target": "existing", "kubeconfig": KUBECONFIG, "kubeContext": "lab-admin"},
        frozenset({"kubeconfig"}),
    )
    snapshot = engine.run_program("ci", config)
    provider = next(r for r in snapshot.resources if r["type"] == "pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == engine.SECRET
    assert provider["inputs"]["context"] == "lab-admin"
    assert "tok-123" not in json.dumps(snapshot.to_dict())


def test_warnings_reach_pulumi_as_warnings(
    pulumi_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pulumi up` shows the config's warnings as Pulumi warnings (the seam: pulumi.warn)."""
    said: list[str] = []
    monkeypatch.setattr(pulumi, "warn", said.append)
    pulumi_env(
        {
            "target": "existing",
            "gpuEnabled": "false",
            "exposeSourceRanges": "0.0.0.0/0",
            "kserveDomain": "pdk.test",
        }
    )
    engine.use_mock_engine("ci")
    _sync_await(run_pulumi_func(run))
    assert any("0.0.0.0/0 lets anyone on the internet" in message for message in said)


@pytest.mark.parametrize("stack", ["team_alpha", "a-stack-name-that-is-long"])
def test_stack_name_unfit_for_names_registers_nothing(pulumi_env: Any, stack: str) -> None:
    """Defect class 2: with the stack name as deployment id, a bad name failed only when a
    bucket or node group was named, after the VPC, NAT, EKS and KMS were registered."""
    pulumi_env({"target": "aws", "awsApiAccessCidrs": "203.0.113.7/32"})
    monitor = engine.use_mock_engine(stack)
    with pytest.raises(pulumi.RunError) as caught:
        _sync_await(run_pulumi_func(run))
    assert "deploymentId" in str(caught.value)
    assert monitor.recorded == {}


def test_key_under_a_mistyped_namespace_is_named_at_runtime(pulumi_env: Any) -> None:
    pulumi_env({})
    import os

    config = json.loads(os.environ["PULUMI_CONFIG"]) | {"pdk-deployr:target": "existing"}
    os.environ["PULUMI_CONFIG"] = json.dumps(config)
    runtime_config.set_all_config({}, [])
    raw, _ = runtime_stack_config()
    assert raw == {"pdk-deployr:target": "existing"}
