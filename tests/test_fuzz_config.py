"""Fuzzing the config front door with hypothesis, for every registered target.

Two properties:

1. Any stack file (random keys, near-miss key names, other namespaces, random scalars, lists,
   mappings, secure values, YAML oddities such as nulls, duplicates and wrong document shapes)
   read offline ends in exactly one of: a valid config; a ``StackFileError``; a ``ConfigError``
   whose every problem renders one line naming a key. Never another exception.
2. For any config, the program as ``pulumi up`` runs it either registers resources and
   finishes, or fails with a ``RunError`` having registered nothing (stack names included,
   since they become the deployment id).

Targets come from the registry, and each target's seed config from the stack files that use it,
so a new target is fuzzed once it is registered. Runs are derandomized (the same cases in CI
every time) and bounded: ``pytest --hypothesis-show-statistics`` prints the outcome classes.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pulumi
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pulumi.runtime import config as runtime_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config.keys import KEYS
from infra.config.load import load_config
from infra.config.problems import ConfigError
from infra.config.types import PROJECT
from infra.plan import engine
from infra.plan.stackfiles import StackFileError, read_stack
from infra.program import run
from infra.targets import TARGETS
from tests.conftest import STACKS, TARGET_OF

FILE_CASES = 300
"""Stack files per target (config only: about a millisecond each)."""
PROGRAM_CASES = 8
"""Whole-program runs per target (up to two seconds each when the config is valid)."""


def _seed(target: str) -> dict[str, str]:
    """The keys of the first stack file of ``target``, or just the target."""
    for stack in STACKS:
        if TARGET_OF[stack] == target:
            raw, _ = read_stack(stack)
            return raw
    return {"target": target}


SEEDS = {target: _seed(target) for target in TARGETS}
KEY_NAMES = sorted(KEYS)


def _near_miss(name: str, draw: Any) -> str:
    """A key a user might type instead: case, a dropped or doubled letter, a stray suffix."""
    kind = draw(st.sampled_from(["lower", "upper", "drop", "double", "suffix", "snake"]))
    index = draw(st.integers(0, max(len(name) - 1, 0)))
    if kind == "lower":
        return name.lower()
    if kind == "upper":
        return name[:1].upper() + name[1:]
    if kind == "drop":
        return name[:index] + name[index + 1 :]
    if kind == "double":
        return name[:index] + name[index : index + 1] * 2 + name[index + 1 :]
    if kind == "snake":
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
    return name + "s"


_TEXTS = (
    "true", "false", "yes", "True", "0", "1", "-1", "007", "2", "100", "1.30", "16.10", "20",
    "20Gi", "0Gi", "1Ti", "", " ", "~", "null", "/", "/mnt/pdk", "//", "..", "0.0.0.0/0",
    "10.0.0.0/8", "10.0.0.5", "203.0.113.7/32", "::/0", "us-east-2", "us-gov-west-1",
    "cn-north-1", "g4dn.xlarge", "m7g.large", "p5.48xlarge", "db.m6g.large", "db.x.huge", "nfs",
    "hostPath", "existing", "aws", "gcp", "LoadBalancer", "NodePort", "Serverless",
    "RawDeployment", "gpu-pool", "dog-cat", "v1.20.0", "latest",
    "docker.io/library/postgres:13.21", "busybox", "[/PATH]", "[red]x[/red]", "[hidden]",
    "localhost:5001/pdk", "https://x/", "a" * 70, "ünïcödé", "team_alpha",
    "nodegroup-role=gpu-worker", "nvidia.com/gpu=present:NoSchedule",
)  # fmt: skip
"""Values that exercise the checks: near-valid, Pulumi-vs-YAML spellings, markup, limits."""

SCALARS = st.one_of(
    st.sampled_from(_TEXTS),
    st.text(alphabet=string.printable, max_size=30),
    st.integers(-(2**65), 2**65).map(str),
)


@st.composite
def yaml_value(draw: Any) -> str:
    """One value as it may appear after ``key:`` in a stack file."""
    text = draw(SCALARS)
    shapes = ["json"] * 4 + ["plain"] * 3 + ["single", "null", "list", "map", "secure"]
    shape = draw(st.sampled_from(shapes))
    if (
        shape == "plain"
        and text
        and text.strip() == text
        and text[0].isalnum()
        and ": " not in text
    ):
        return text
    if shape == "single":
        return "'" + text.replace("'", "''") + "'"
    if shape == "null":
        return "~"
    if shape == "list":
        return json.dumps([text, draw(SCALARS)])
    if shape == "map":
        return json.dumps({"value": text})
    if shape == "secure":
        return "{secure: v1:ZmFrZQ==}"
    return json.dumps(text)  # a double-quoted YAML scalar


@st.composite
def stack_file(draw: Any, target: str) -> str:
    """A stack file near a valid one for ``target``: kept, dropped, added and misnamed keys."""
    entries: list[tuple[str, str]] = [
        (f"{PROJECT}:{key}", json.dumps(value))
        for key, value in SEEDS[target].items()
        if draw(st.sampled_from(range(10))) != 5  # drop about one key in ten
    ]
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(KEY_NAMES))
        if draw(st.sampled_from(range(4))) == 2:
            name = _near_miss(name, draw)
        namespace = draw(
            st.sampled_from([PROJECT, PROJECT, PROJECT, "pdk-deployr", "kubernetes", "aws", ""])
        )
        full = f"{namespace}:{name}" if namespace else name
        entries.insert(draw(st.integers(0, len(entries))), (full, draw(yaml_value())))
    if entries and draw(st.sampled_from(range(10))) == 5:
        entries.append(entries[draw(st.integers(0, len(entries) - 1))])  # a duplicate key
    body = "".join(f"  {key}: {value}\n" for key, value in entries)
    shape = draw(st.sampled_from(["normal"] * 30 + ["list", "flat", "empty", "config-null"]))
    if shape == "list":
        return "".join(f"- {key}: {value}\n" for key, value in entries)
    if shape == "flat":
        return body.replace("  ", "", 1)
    if shape == "empty":
        return ""
    if shape == "config-null":
        return "config:\n"
    return "config:\n" + body


def _check_problems(error: ConfigError) -> None:
    assert error.problems
    for problem in error.problems:
        line = problem.render()
        assert "\n" not in line and "Traceback" not in line
        assert problem.key and problem.reason
        assert line.startswith(f"{PROJECT}:{problem.key} = ") or (
            ":" in problem.key and line.startswith(f"{problem.key} = ")
        )
    assert str(error).startswith(f"Stack '{error.stack}' has {len(error.problems)} ")


SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.mark.parametrize("target", list(TARGETS))
@settings(SETTINGS, max_examples=FILE_CASES)
@given(data=st.data())
def test_any_stack_file_is_planned_or_refused_with_a_message(
    tmp_path: Path, target: str, data: st.DataObject
) -> None:
    text = data.draw(stack_file(target))
    (tmp_path / "stacks").mkdir(exist_ok=True)
    (tmp_path / "stacks" / "Pulumi.fuzz.yaml").write_text(text)
    try:
        raw, secret = read_stack("fuzz", tmp_path)
    except StackFileError as error:
        event("stack file refused")
        assert "stacks/Pulumi.fuzz.yaml" in str(error)
        return
    try:
        config = load_config("fuzz", raw, secret)
    except ConfigError as error:
        event("config refused")
        _check_problems(error)
        return
    event("config valid" + (", with warnings" if config.warnings else ""))
    assert config.target in TARGETS


STACK_NAMES = st.one_of(
    st.just("fuzz"),
    st.sampled_from(["team_alpha", "Team.Alpha", "a-stack-name-longer-than-twenty", "x"]),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=40),
)


@st.composite
def raw_config(draw: Any, target: str) -> dict[str, str]:
    """Config as the Pulumi language host passes it: text values, near a valid one."""
    raw = {
        key: value for key, value in SEEDS[target].items() if draw(st.sampled_from(range(6))) != 3
    }
    for _ in range(draw(st.integers(0, 2))):
        raw[draw(st.sampled_from(KEY_NAMES))] = draw(SCALARS)
    return raw


@pytest.mark.parametrize("target", list(TARGETS))
@settings(SETTINGS, max_examples=PROGRAM_CASES)
@given(data=st.data())
def test_a_failing_config_registers_nothing(
    target: str, monkeypatch: pytest.MonkeyPatch, data: st.DataObject
) -> None:
    raw = data.draw(raw_config(target))
    stack = data.draw(STACK_NAMES)
    config = {f"{PROJECT}:{key}": value for key, value in raw.items()}
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", "[]")
    runtime_config.set_all_config({}, [])
    monitor = engine.use_mock_engine(stack)
    try:
        _sync_await(run_pulumi_func(run))
    except pulumi.RunError:
        event("refused before registering")
        assert monitor.recorded == {}, f"{len(monitor.recorded)} resources registered"
        return
    event("deployed")
    assert monitor.recorded
