"""`pdk plan` refuses exactly the stack files the real Pulumi CLI refuses.

Each case is a stack file the offline tests already hold (tests/test_stackfiles.py,
tests/test_config.py): malformed files, values the CLI's config typing refuses, values only the
program refuses, and values both must accept. The same text goes to ``pdk plan``'s reader and
validator (``infra.plan.engine.plan``) and to ``pulumi preview`` of the real CLI on the rig; the
verdicts (refused or accepted) must agree. The CLI's verdict is its exit code: it refuses a file
it cannot read or a value its config typing rejects before the program starts, and the program
refuses the rest with the same validator as ``pdk plan``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infra.config.problems import ConfigError
from infra.plan.engine import plan
from infra.plan.stackfiles import StackFileError
from tests.rig import session
from tests.rig.project import PROJECTS, ROOT, pulumi, rig_settings

STACK = "stackfile-case"
_P = "pdk-deployer"


def _local(**overrides: str) -> str:
    """The committed `local` stack file with the rig's settings and ``overrides`` as raw text
    (so the CLI and pdk see the same literal)."""
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.local.yaml").read_text())
    lines = ["config:"]
    config = {**document["config"], **{f"{_P}:{k}": v for k, v in rig_settings().items()}}
    for key, value in config.items():
        if key.removeprefix(f"{_P}:") not in overrides:
            lines.append(f"  {key}: {_scalar(value)}")
    lines += [f"  {_P}:{key}: {text}" for key, text in overrides.items()]
    return "\n".join(lines) + "\n"


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


CASES: dict[str, tuple[str, bool]] = {
    # name: (stack file text, refused)
    "a list, not a mapping": (f"- {_P}:target: existing\n", True),
    "config is a list": (f"config:\n  - {_P}:target: existing\n", True),
    "key set twice": (f"config:\n  {_P}:target: existing\n  {_P}:target: aws\n", True),
    "null value": (f"config:\n  {_P}:target: existing\n  {_P}:registry: ~\n", True),
    "boolean yes": (_local(gpuEnabled="yes"), True),
    "boolean True": (_local(gpuEnabled="'True'"), True),
    "boolean 1": (_local(gpuEnabled="1"), True),
    "integer 1.0": (_local(mldeMaxSlotsPerPod="1.0"), True),
    "integer two": (_local(mldeMaxSlotsPerPod="two"), True),
    "value outside the allowed set": (_local(exposeServiceType="Ingress"), True),
    "unknown key": (_local(gpuEnabeld="false"), True),
    "integer +2": (_local(mldeMaxSlotsPerPod="'+2'"), False),
}


@pytest.fixture(scope="module")
def project() -> Iterator[tuple[Path, str]]:
    reason = session.unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the rig tests: {reason}")
        pytest.skip(reason)
    work = PROJECTS / STACK
    (work / "stacks").mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        (work / name).write_bytes((ROOT / name).read_bytes())
    if not (work / ".venv").exists():
        (work / ".venv").symlink_to(ROOT / ".venv")
    stack_file = work / "stacks" / f"Pulumi.{STACK}.yaml"
    stack_file.write_text("config: {}\n")
    if pulumi(work, "stack", "select", STACK).returncode != 0:
        pulumi(work, "stack", "init", STACK, "--secrets-provider", "passphrase").check()
    # `stack init` wrote the passphrase's salt into the file; every case keeps it.
    salt = str((yaml.safe_load(stack_file.read_text()) or {}).get("encryptionsalt", ""))
    yield work, salt


def _write(work: Path, salt: str, text: str) -> None:
    """The case's text, with the stack's passphrase salt where the file is a mapping (the CLI
    needs it to open the stack; it changes no config)."""
    stack_file = work / "stacks" / f"Pulumi.{STACK}.yaml"
    mapping = not text.startswith("-") and salt
    stack_file.write_text(f"encryptionsalt: {salt}\n{text}" if mapping else text)


def _offline_refuses(work: Path) -> bool:
    try:
        plan(STACK, root=work)
    except (StackFileError, ConfigError):
        return True
    return False


@pytest.mark.parametrize("case", list(CASES))
def test_pdk_plan_and_the_real_cli_give_the_same_verdict(
    project: tuple[Path, str], case: str
) -> None:
    work, salt = project
    text, refused = CASES[case]
    _write(work, salt, text)
    offline = _offline_refuses(work)
    real = pulumi(work, "preview", "--stack", STACK, timeout=300)
    assert offline is refused, f"pdk plan {'refused' if offline else 'accepted'} it"
    output = (real.stdout + real.stderr)[-1500:]
    assert (real.returncode != 0) is refused, f"the real CLI exited {real.returncode}:\n{output}"
