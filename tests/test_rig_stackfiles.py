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
    # yaml.v3 reads 1.0 as a number and the CLI passes it as 1: accepted by both.
    "integer 1.0": (_local(mldeMaxSlotsPerPod="1.0"), False),
    "integer 1.5": (_local(mldeMaxSlotsPerPod="1.5"), True),
    "unquoted 1.30 is the number 1.3": (_local(kubernetesVersion="1.30"), True),
    "integer two": (_local(mldeMaxSlotsPerPod="two"), True),
    "value outside the allowed set": (_local(exposeServiceType="Ingress"), True),
    "unknown key": (_local(gpuEnabeld="false"), True),
    # The CLI reads a key without a namespace as the project's (and rewrites it so on save):
    # accepted by both, as pdk-deployer:target.
    "key without the project namespace": (_local().replace(f"  {_P}:target:", "  target:"), False),
    # (Accepted texts such as +2 are checked value by value below, without a full preview each.)
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


def test_placeholders_warn_in_the_real_preview_and_stop_the_real_up(
    project: tuple[Path, str],
) -> None:
    """The real engine: `pulumi preview` shows the placeholder as a warning and goes on; the
    update of `pulumi up` refuses it before registering anything but the stack itself."""
    import json

    work, salt = project
    _write(work, salt, _local(kserveDomain="example.com"))
    preview = pulumi(work, "preview", "--stack", STACK, timeout=300)
    shown = " ".join((preview.stdout + preview.stderr).split())
    assert preview.returncode == 0, shown[-1500:]
    assert "example.com is a name reserved for documentation" in shown
    assert "pulumi up refuses placeholders" in shown
    up = pulumi(work, "up", "--yes", "--skip-preview", "--stack", STACK, timeout=300)
    said = " ".join((up.stdout + up.stderr).split())
    assert up.returncode != 0, said[-1500:]
    assert "pdk-deployer:kserveDomain = 'example.com'" in said and "Traceback" not in said
    exported = pulumi(work, "stack", "export", "--stack", STACK).check()
    resources = json.loads(exported.stdout)["deployment"].get("resources") or []
    assert {r["type"] for r in resources} <= {"pulumi:pulumi:Stack"}


SCALARS = [
    *("1.30", "16.10", "1.0", "2e1", "+2", "02", "010", "08", "0x10", "0o17", "1_0", "-0b11"),
    *(".5", "1e21", "1e-7", "0.000001", "123456789012345678901", "-0"),
    *("yes", "on", "y", "True", "FALSE", "~x", "'1.30'", '"010"', "abc", "1.2.3", "2026-12-07"),
    *("[1.30, yes, 0x10]", "{b: 1.0, a: on}"),
]
"""Values whose text and whose YAML type differ, or differ between YAML 1.1 and 1.2."""
_PROBE_PROGRAM = """\
import os, pathlib
pathlib.Path(__file__).with_name("received.json").write_text(os.environ.get("PULUMI_CONFIG", ""))
"""


def test_every_value_reaches_the_program_as_pdk_plan_reads_it(project: tuple[Path, str]) -> None:
    """The real CLI decodes the stack file (Go's yaml.v3) and passes each value as text; the
    program under the real CLI must receive, for every tricky scalar, exactly what ``pdk plan``
    reads (``infra.plan.cli_yaml``)."""
    import json

    from infra.plan import cli_yaml

    _, salt = project
    work = PROJECTS / "value-probe"
    (work / "stacks").mkdir(parents=True, exist_ok=True)
    (work / "Pulumi.yaml").write_text(
        "name: probe\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        "    virtualenv: .venv\nstackConfigDir: stacks\n"
    )
    (work / "__main__.py").write_text(_PROBE_PROGRAM)
    if not (work / ".venv").exists():
        (work / ".venv").symlink_to(ROOT / ".venv")
    stack_file = work / "stacks" / "Pulumi.probe.yaml"
    stack_file.write_text("config: {}\n")
    if pulumi(work, "stack", "select", "probe").returncode != 0:
        pulumi(work, "stack", "init", "probe", "--secrets-provider", "passphrase").check()
    salt = str((yaml.safe_load(stack_file.read_text()) or {}).get("encryptionsalt", ""))
    lines = [f"encryptionsalt: {salt}", "config:"]
    lines += [f"  probe:k{i}: {text}" for i, text in enumerate(SCALARS)]
    text = "\n".join(lines) + "\n"
    stack_file.write_text(text)
    (work / "received.json").unlink(missing_ok=True)
    pulumi(work, "preview", "--stack", "probe", timeout=300).check()
    received = json.loads((work / "received.json").read_text())
    config = yaml.compose(text)  # the CLI may have rewritten the file (its own formatting)
    assert isinstance(config, yaml.MappingNode)
    nodes = dict((str(k.value), v) for k, v in config.value)["config"]
    mismatched = []
    for (key, node), scalar in zip(nodes.value, SCALARS, strict=True):
        value = cli_yaml.decode(node)
        ours = cli_yaml.scalar_text(value) if isinstance(node, yaml.ScalarNode) else None
        theirs = received.get(str(key.value))
        if ours is None:
            same = json.loads(cli_yaml.go_json(value)) == json.loads(str(theirs))
        else:
            same = ours == theirs
        if not same:
            mismatched.append(f"{scalar}: CLI passed {theirs!r}, pdk reads {ours or value!r}")
    assert not mismatched, mismatched
