"""`pdk diff` names replacements and data loss: a change that makes the provider delete and
create a resource is a "replace", never a plain "changed", and a deleted or replaced resource
that holds data comes first. Hand-made snapshots, real plans of the committed stacks, and (on the
rig) the kubernetes provider's own force-new table."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from infra.plan.diff import diff_snapshots
from infra.plan.render import render_diff
from infra.plan.replacements import KUBERNETES_IDENTITY, REPLACE_ON, triggers
from infra.plan.review import render_markdown
from tests.conftest import plan_variant as planned_snapshot


def _snapshot(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"stack": "t", "resources": list(resources), "outputs": {}}


def _pvc(storage_class: str, size: str = "10Gi") -> dict[str, Any]:
    return {
        "type": "kubernetes:core/v1:PersistentVolumeClaim",
        "name": "data",
        "inputs": {
            "metadata": {"name": "data", "namespace": "pdk"},
            "spec": {
                "storageClassName": storage_class,
                "resources": {"requests": {"storage": size}},
            },
        },
    }


def _daemonset(replicas: int) -> dict[str, Any]:
    return {
        "type": "kubernetes:apps/v1:DaemonSet",
        "name": "web",
        "inputs": {"metadata": {"name": "web"}, "spec": {"replicas": replicas}},
    }


def _text(diff: Any) -> str:
    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    render_diff(console, diff)
    return console.export_text()


def test_a_force_new_input_is_a_replacement_and_a_resize_is_an_update() -> None:
    before = _snapshot(_pvc("gp3"), _daemonset(1))
    resized = diff_snapshots(before, _snapshot(_pvc("gp3", "20Gi"), _daemonset(2)))
    assert {c.name for c in resized.updated} == {"data", "web"} and not resized.replaced
    assert resized.data_loss() == []
    moved = diff_snapshots(before, _snapshot(_pvc("efs"), _daemonset(1)))
    (change,) = moved.replaced
    assert change.replaced_by == ["inputs.spec.storageClassName"]
    assert moved.data_loss() == [
        ("replace", "kubernetes:core/v1:PersistentVolumeClaim", "data", "its volume's data")
    ]


def test_text_diff_puts_data_loss_first_and_says_replace() -> None:
    rds = {"type": "aws:rds/instance:Instance", "name": "db", "inputs": {"engine": "postgres"}}
    before = _snapshot(_pvc("gp3"), rds, _daemonset(1))
    after = _snapshot(_pvc("efs"), _daemonset(3))
    lines = _text(diff_snapshots(before, after)).splitlines()
    assert lines[0] == "DATA LOSS: delete Instance db loses the database"
    assert lines[1].startswith("DATA LOSS: replace PersistentVolumeClaim data")
    assert "+-1 replaced" in lines[2] and "~1 changed" in lines[2]
    replace_line = next(line for line in lines if line.startswith("+- "))
    assert "replace: deleted and created again, because of inputs.spec.storageClassName" in (
        replace_line
    )
    assert any(line.startswith("~ DaemonSet web") for line in lines)


def test_markdown_opens_with_a_caution_block_and_separates_replacements() -> None:
    before = _snapshot(_pvc("gp3"), _daemonset(1))
    after = _snapshot(_pvc("efs"), _daemonset(2))
    text = render_markdown(diff_snapshots(before, after), "aws")
    assert text.splitlines()[0] == "### `aws`: 0 to add, 1 to change, 1 to replace, 0 to remove"
    caution = text.index("> [!CAUTION]")
    assert caution < text.index("**Replaced (1)**") < text.index("**Changed (1)**")
    assert "> - **replace** `data`" in text
    assert (
        "**replace** (deleted and created again) because of `inputs.spec.storageClassName`" in text
    )


def test_a_new_parent_is_a_replacement() -> None:
    """Another parent is another URN: Pulumi deletes the old resource (no alias here)."""
    old = {**_pvc("gp3"), "parent": "storage"}
    new = {**_pvc("gp3"), "parent": "volumes"}
    (change,) = diff_snapshots(_snapshot(old), _snapshot(new)).replaced
    assert change.replaced_by == ["parent"]


def test_a_changed_deployment_id_replaces_the_aws_buckets_and_names_the_data() -> None:
    """The real program: a new deploymentId renames the buckets and the database."""
    before = planned_snapshot("aws")
    after = planned_snapshot("aws", deploymentId="other")
    result = diff_snapshots(before, after)
    lost = {(verb, typ) for verb, typ, _, _ in result.data_loss()}
    assert ("replace", "aws:s3/bucket:Bucket") in lost
    assert ("replace", "aws:rds/instance:Instance") in lost
    document = result.to_dict()
    assert document["dataLoss"] and all(
        c["action"] == "replace" for c in document["changed"] if c["type"] == "aws:s3/bucket:Bucket"
    )


def test_the_same_stack_twice_replaces_nothing() -> None:
    snapshot = planned_snapshot("onprem")
    result = diff_snapshots(snapshot, copy.deepcopy(snapshot))
    assert result.empty and result.data_loss() == []


def test_every_type_with_force_new_inputs_is_one_the_program_declares() -> None:
    """A table entry for a type no stack declares is a typo that never fires."""
    declared = {
        r["type"]
        for stack in ("aws", "gcp", "local", "onprem")
        for r in planned_snapshot(stack)["resources"]
    }
    assert set(REPLACE_ON) - declared == set()


def test_triggers_match_whole_path_segments() -> None:
    typ = "kubernetes:apps/v1:StatefulSet"
    assert triggers(typ, ["spec.selector.matchLabels.app"]) == ["spec.selector.matchLabels.app"]
    assert triggers(typ, ["spec.selectorX", "spec.replicas"]) == []
    assert triggers(typ, ["spec.volumeClaimTemplates[0].spec.resources"]) != []


_FORCE_NEW = re.compile(r'"(\w+)":\s*(?:append\(\s*)?properties\{([^}]*)\}', re.S)


def _provider_source() -> Path | None:
    from tests.rig.project import ROOT

    found = sorted(
        (ROOT / ".rig" / "go" / "mod" / "github.com" / "pulumi").glob(
            "pulumi-kubernetes/provider/v4@*/pkg/provider/diff.go"
        )
    )
    return found[-1] if found else None


def test_kubernetes_entries_are_the_providers_own() -> None:
    """Compared with the kubernetes provider's forceNew table in the source the rig builds
    (``make rig-build`` fetches it): for each kind we list, the same top-level paths."""
    source = _provider_source()
    if source is None:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("CI must have the rig's module cache (make rig-build)")
        pytest.skip("the rig's Go module cache is not built (make rig-build)")
    text = source.read_text()
    named = {kind: body for kind, body in _FORCE_NEW.findall(text)}
    variables = {
        name: body
        for name, body in re.findall(
            r"var (\w+) = (?:append\(\s*)?properties\{([^}]*)\}", text, re.S
        )
    }
    for kind_name, variable in re.findall(r'"(\w+)":\s+(\w+)[,}]', text):
        if variable in variables:
            named.setdefault(kind_name, variables[variable])
    named["Secret"] = '".type", ".stringData", ".data"'  # forceNewProperties' Secret branch
    named["ConfigMap"] = '".binaryData", ".data"'  # and its ConfigMap branch
    assert '".name"' in text and '".namespace"' in text  # metadataForceNewProperties
    assert KUBERNETES_IDENTITY == ("metadata.name", "metadata.namespace")
    for token, ours in REPLACE_ON.items():
        if not token.startswith("kubernetes:") or "helm.sh" in token:
            continue
        kind = token.rsplit(":", 1)[-1]
        theirs = {p.strip().strip('",').lstrip(".") for p in re.findall(r'"[^"]+"', named[kind])}
        top = {p for p in theirs if not any(p.startswith(q + ".") for q in theirs if q != p)}
        assert set(ours) == top, (kind, sorted(top))


def test_diff_json_marks_the_action(tmp_path: Path) -> None:
    before = _snapshot(_pvc("gp3"))
    after = _snapshot(_pvc("efs"))
    document = json.loads(json.dumps(diff_snapshots(before, after).to_dict()))
    assert document["changed"][0]["action"] == "replace"
    assert document["dataLoss"][0]["action"] == "replace"
