"""Pulumi.yaml, the stack files and the config models agree with one another."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from infra.config.keys import KEYS
from infra.config.load import load_config
from infra.config.types import PROJECT
from infra.plan.projectfile import render_project_file
from infra.plan.stackfiles import REPO_ROOT, read_stack
from tests.conftest import STACKS


def test_pulumi_yaml_declares_exactly_the_config_keys() -> None:
    text = (REPO_ROOT / "Pulumi.yaml").read_text()
    assert text == render_project_file(yaml.safe_load(text)), "run `pdk schema --write`"
    document = yaml.safe_load(text)
    assert document["stackConfigDir"] == "stacks"
    assert document["name"] == PROJECT
    declared = document["config"]
    assert list(declared) == list(KEYS)
    for key, entry in declared.items():
        assert entry["type"] in {"string", "integer", "boolean", "array"}
        assert entry["description"]
        assert ("default" in entry) is (not KEYS[key].required)


@pytest.mark.parametrize("target", ["existing", "aws"])
def test_declared_defaults_are_the_model_defaults(target: str) -> None:
    """Pulumi passes every declared default to the program; on any target that must read as
    if nothing were set (no 'only applies to target' or 'would be ignored' problems)."""
    declared = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())["config"]
    raw = {key: entry["default"] for key, entry in declared.items() if "default" in entry}
    required = {"target": target}
    if target == "aws":
        required["awsApiAccessCidrs"] = "203.0.113.7/32"
    config = load_config("defaults", {**raw, **required})
    assert config == load_config("defaults", required)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_hold_only_overrides_with_a_reason(stack: str) -> None:
    raw, _ = read_stack(stack)
    path = REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml"
    lines = path.read_text().splitlines()
    for key, value in raw.items():
        spec = KEYS[key]
        if not spec.required:
            assert str(spec.default).lower() != value.lower(), f"{key} repeats its default"
        index = next(
            i for i, line in enumerate(lines) if line.strip().startswith(f"{PROJECT}:{key}:")
        )
        above = lines[index - 1].strip()
        assert spec.required or above.startswith("#") or _same_reason_block(lines, index), key


def _same_reason_block(lines: list[str], index: int) -> bool:
    """A comment may cover several consecutive keys."""
    while index > 0 and not lines[index - 1].strip().startswith("#"):
        index -= 1
        if not lines[index].strip().startswith(f"{PROJECT}:"):
            return False
    return index > 0


def test_project_layout() -> None:
    for path in (
        "Pulumi.yaml",
        "__main__.py",
        "infra",
        "stacks",
        "pdk_assets",
        "images",
        "examples",
        "tests",
        "README.md",
        "pyproject.toml",
        "CONTRIBUTING.md",
        ".ci/run",
    ):
        assert (REPO_ROOT / path).exists(), path
    assert Path(REPO_ROOT / "__main__.py").read_text().strip().endswith("run()")


def test_test_modules_do_not_import_each_other() -> None:
    """Shared test helpers live in tests/conftest.py, so a test file can move or go alone."""
    for path in sorted((REPO_ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("tests.test_"), path.name
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("tests.test_") for a in node.names), path.name
