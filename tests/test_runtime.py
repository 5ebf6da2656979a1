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

from infra.config import PROJECT, load_config
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
    pulumi_env({"target": "existing", "sharedFsType": "nfs"})
    monitor = engine.use_mock_engine("ci")
    with pytest.raises(pulumi.RunError) as caught:
        _sync_await(run_pulumi_func(run))
    assert "Stack 'ci' has 1 configuration problem:" in str(caught.value)
    assert "sharedFsNfsServer" in str(caught.value)
    assert monitor.recorded == {}


def test_good_config_registers_the_stack(pulumi_env: Any) -> None:
    pulumi_env({"target": "existing", "gpuEnabled": "false"})
    monitor = engine.use_mock_engine("ci")
    _sync_await(run_pulumi_func(run))
    types = {record.type for record in monitor.recorded.values()}
    assert "kubernetes:apps/v1:StatefulSet" in types


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
