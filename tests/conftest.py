"""Shared fixtures: every stack planned once per session under Pulumi's mock engine."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.config.load import load_config
from infra.config.problems import ConfigError
from infra.plan.engine import plan
from infra.plan.stackfiles import REPO_ROOT, known_stacks

STACKS = known_stacks()


def _target(stack: str) -> str:
    from infra.plan.stackfiles import read_stack

    raw, _ = read_stack(stack)
    return str(raw["target"])


TARGET_OF = {stack: _target(stack) for stack in STACKS}
IN_CLUSTER_STACKS = [s for s in STACKS if TARGET_OF[s] == "existing"]
"""Stacks whose Postgres, MinIO and shared volumes run inside the cluster."""
AWS_STACKS = [s for s in STACKS if TARGET_OF[s] == "aws"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/*.json from the current program instead of comparing.",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def snapshots() -> dict[str, dict[str, Any]]:
    """``Snapshot.to_dict()`` of every stack in stacks/, keyed by stack name."""
    return {stack: plan(stack).to_dict() for stack in STACKS}


@pytest.fixture(scope="session")
def revealed() -> dict[str, dict[str, Any]]:
    """Like ``snapshots``, but with the mocks' secret stand-ins left in, to follow where each
    secret goes. Never written anywhere."""
    return {stack: plan(stack, reveal_secrets=True).to_dict() for stack in STACKS}


def resource(snapshot: dict[str, Any], name: str) -> dict[str, Any]:
    """The one resource with logical name ``name``."""
    found = [r for r in snapshot["resources"] if r["name"] == name]
    assert len(found) == 1, f"{name}: {len(found)} resources"
    return found[0]


def releases(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Inputs of every Helm release, by logical name."""
    return {
        r["name"]: r["inputs"]
        for r in snapshot["resources"]
        if r["type"] == "kubernetes:helm.sh/v3:Release"
    }


def depends_on(snapshot: dict[str, Any], name: str) -> set[str]:
    """Everything ``name`` waits for, directly or through what it waits for."""
    direct = {r["name"]: set(r["dependencies"]) for r in snapshot["resources"]}
    seen: set[str] = set()
    pending = list(direct[name])
    while pending:
        current = pending.pop()
        if current not in seen:
            seen.add(current)
            pending.extend(direct.get(current, ()))
    return seen


def k8s_objects(snapshot: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource, manifest) for every Kubernetes object the stack declares itself."""
    for resource in snapshot["resources"]:
        inputs = resource["inputs"]
        if resource["type"].startswith("kubernetes:") and "kind" in inputs:
            yield resource, inputs


@pytest.fixture
def project_copy(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """A copy of Pulumi.yaml and stacks/ in which tests write their own stack files."""

    def make(stacks: dict[str, str]) -> Path:
        root = tmp_path / "project"
        (root / "stacks").mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
        for name, text in stacks.items():
            (root / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
        return root

    return make


def dumps(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def problems(raw: dict[str, Any], secret_keys: frozenset[str] = frozenset()) -> list[str]:
    """The rendered problems of a config that must fail (stack name ``test``)."""
    with pytest.raises(ConfigError) as caught:
        load_config("test", raw, secret_keys)
    assert caught.value.stack == "test"
    return [problem.render() for problem in caught.value.problems]


def only_problem(raw: dict[str, Any], secret_keys: frozenset[str] = frozenset()) -> str:
    """The one rendered problem of a config that must fail with exactly one."""
    found = problems(raw, secret_keys)
    assert len(found) == 1, found
    return found[0]


KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: lab, cluster: {server: "https://10.0.0.1:6443"}}]
users: [{name: admin, user: {token: tok-123}}]
contexts: [{name: lab-admin, context: {cluster: lab, user: admin}}]
current-context: lab-admin
"""
"""A valid kubeconfig with one context, ``lab-admin``."""


@functools.cache
def plan_variant(stack: str, **overrides: str) -> dict[str, Any]:
    """``stack``'s snapshot with some keys overridden (text values, as Pulumi passes them),
    planned once per distinct variant per session."""
    from infra.plan.engine import run_program
    from infra.plan.stackfiles import read_stack

    raw, secret = read_stack(stack)
    config = load_config(stack, {**raw, **overrides}, secret)
    return run_program(stack, config).to_dict()


def of_type(snapshot: dict[str, Any], token: str) -> list[dict[str, Any]]:
    """Every resource of type ``token``."""
    return [r for r in snapshot["resources"] if r["type"] == token]


def by_kind(snapshot: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The manifests of every Kubernetes object of ``kind``."""
    return [manifest for _, manifest in k8s_objects(snapshot) if manifest["kind"] == kind]


def pipeline_round_trip(spec: dict[str, Any]) -> dict[str, Any]:
    """A pipeline spec after a trip through Pachyderm's CreatePipelineRequest protobuf: what
    the protobuf does not keep is missing from the result."""
    import betterproto
    from pachyderm_sdk.api.pps import CreatePipelineRequest

    request = CreatePipelineRequest().from_dict(spec)
    result: dict[str, Any] = request.to_dict(
        casing=betterproto.Casing.SNAKE, include_default_values=False
    )
    return result


SCHEMAS = Path(__file__).parent / "schemas"
CUSTOM_GROUPS = {
    "gateway.networking.k8s.io",
    "cert-manager.io",
    "gateway.envoyproxy.io",
    "serving.kserve.io",
}
"""API groups of the custom resources the stacks declare; kubernetes-validate knows none."""


def validate_custom_resources(objects: list[dict[str, Any]]) -> list[str | None]:
    """Validates custom resources with tests/schemas/validate.mjs (see
    tests/test_custom_resources.py): one entry per object, None when valid."""
    node = shutil.which("node")
    if node is None or not (SCHEMAS / "node_modules").is_dir():
        message = (
            "custom-resource schemas need Node.js and: npm ci --prefix tests/schemas "
            "(make test does it)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    done = subprocess.run(
        [node, str(SCHEMAS / "validate.mjs")],
        input=json.dumps(objects),
        capture_output=True,
        text=True,
        cwd=SCHEMAS,
        check=True,
        timeout=120,
    )
    results: list[str | None] = json.loads(done.stdout)
    return results
