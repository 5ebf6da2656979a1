"""Stack files read offline exactly as the Pulumi CLI reads them, and refused where the CLI
would refuse them, with the cause named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi.runtime import config as runtime_config

from infra.config.load import load_config
from infra.config.problems import ConfigError
from infra.config.types import PROJECT
from infra.plan import cli_yaml
from infra.plan.stackfiles import StackFileError, read_stack
from infra.program import runtime_stack_config

TRICKY = """\
config:
  pdk-deployer:target: existing
  pdk-deployer:kubernetesVersion: 1.30
  pdk-deployer:awsDbEngineVersion: 16.10
  pdk-deployer:gpuEnabled: false
  pdk-deployer:deploymentId: '010'
  pdk-deployer:kserveDomain: "models.example.com"
  kubernetes:context: lab
"""
LITERAL = {
    "target": "existing",
    "kubernetesVersion": "1.3",
    "awsDbEngineVersion": "16.1",
    "gpuEnabled": "false",
    "deploymentId": "010",
    "kserveDomain": "models.example.com",
}
"""What the Pulumi CLI (v3.276) passes the program for TRICKY: unquoted numbers as yaml.v3
decodes them, rendered as JSON (so 1.30 arrives as 1.3), quoted text as written. Observed with
the real CLI in the rig; tests/test_rig_stackfiles.py checks many more scalars there."""


def write(tmp_path: Path, text: str, name: str = "t") -> Path:
    (tmp_path / "stacks").mkdir(exist_ok=True)
    (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
    return tmp_path


def test_scalars_reach_the_program_as_the_cli_passes_them(tmp_path: Path) -> None:
    """An unquoted 1.30 is the number 1.3 for the real CLI too (the rig showed it; this reader
    had kept the text '1.30', so `pdk plan` accepted what `pulumi up` would refuse)."""
    raw, secret = read_stack("t", write(tmp_path, TRICKY))
    assert raw == LITERAL
    assert secret == frozenset()


def test_offline_and_runtime_read_the_same_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One reading: the stack file through `pdk plan`'s reader, and the same stack as the
    Pulumi language host passes it (PULUMI_CONFIG), give the same raw values and the same
    result. (The CLI side is its observed behaviour, encoded in LITERAL; the live CLI is in
    tests/test_rig_stackfiles.py.)"""
    offline, _ = read_stack("t", write(tmp_path, TRICKY))
    monkeypatch.setenv(
        "PULUMI_CONFIG",
        json.dumps(
            {f"{PROJECT}:{k}": v for k, v in LITERAL.items()} | {"kubernetes:context": "lab"}
        ),
    )
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", "[]")
    runtime_config.set_all_config({}, [])
    runtime, _ = runtime_stack_config()
    assert offline == runtime
    offline_problems = _problems(offline)
    assert offline_problems == _problems(runtime)
    # Both paths judge what the CLI passes for an unquoted 1.30: 1.3, an unknown version.
    assert any("'1.3'" in p for p in offline_problems)
    with pytest.raises(ConfigError) as refused:
        load_config("t", offline)
    assert "quote it: '1.30'" in str(cli_yaml.explained(refused.value, offline))
    assert raw_kubernetes_version(offline) == raw_kubernetes_version(runtime) == "1.3"


def raw_kubernetes_version(raw: dict[str, str]) -> str:
    return raw["kubernetesVersion"]


def _problems(raw: dict[str, str]) -> list[str]:
    """Each problem's key, value and reason: the verdict. (The offline reader also knows the
    file's text and adds a quoting hint to the fix, which the program under the CLI cannot.)"""
    from infra.config.problems import ConfigError

    try:
        load_config("t", raw)
    except ConfigError as error:
        return [f"{p.key} = {str(p.value)!r}: {p.reason}" for p in error.problems]
    return []


def test_yaml_booleans_other_than_true_false_stay_text_and_are_refused(tmp_path: Path) -> None:
    raw, _ = read_stack("t", write(tmp_path, "config:\n  pdk-deployer:gpuEnabled: yes\n"))
    assert raw == {"gpuEnabled": "yes"}


def test_null_value_is_refused_with_the_cause(tmp_path: Path) -> None:
    """YAML turned `~` into None, which became the string 'None'."""
    root = write(tmp_path, "config:\n  pdk-deployer:target: existing\n  pdk-deployer:registry: ~\n")
    with pytest.raises(StackFileError, match=r"pdk-deployer:registry has no value \(YAML null\)"):
        read_stack("t", root)


def test_duplicate_key_is_refused_naming_both_lines(tmp_path: Path) -> None:
    """Defect class 10: YAML kept the last of two values silently; Pulumi refuses the file."""
    text = "config:\n  pdk-deployer:target: existing\n  pdk-deployer:target: aws\n"
    with pytest.raises(StackFileError, match=r"pdk-deployer:target is set twice \(lines 2 and 3\)"):
        read_stack("t", write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("- pdk-deployer:target: existing\n", "is a list, not a mapping"),
        ("pdk-deployer:target: existing\n", "has no 'config:' mapping (pdk-deployer:target sit"),
        (
            "config:\n  - pdk-deployer:target: existing\n",
            "'config' is a list; it must be a mapping",
        ),
        ("", "is empty"),
        ("config: {}\npdk-deployer:gpuEnabled: false\n", "sit at the top level"),
    ],
)
def test_wrong_file_shape_names_the_cause(tmp_path: Path, text: str, cause: str) -> None:
    """Defect class 10: the message named a symptom ('target is not set')."""
    with pytest.raises(StackFileError) as caught:
        read_stack("t", write(tmp_path, text))
    assert cause in str(caught.value)


def test_key_under_a_mistyped_project_namespace_is_kept_for_the_loader(tmp_path: Path) -> None:
    raw, _ = read_stack(
        "t", write(tmp_path, "config:\n  pdk-deployr:target: existing\n  aws:region: us-east-1\n")
    )
    assert raw == {"pdk-deployr:target": "existing"}


def test_secure_values_and_objects(tmp_path: Path) -> None:
    text = (
        "config:\n  pdk-deployer:kubeconfig:\n    secure: v1:abc\n"
        "  pdk-deployer:kserveDomain: [a, b]\n"
    )
    raw, secret = read_stack("t", write(tmp_path, text))
    assert secret == frozenset({"kubeconfig"})
    assert raw["kserveDomain"] == '["a","b"]'
    assert type(raw["kserveDomain"]).__name__ == "ConfigObject"
