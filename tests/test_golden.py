"""Golden plans: each stack's full snapshot is committed, so any change in what would be
deployed shows up as a reviewed diff. Regenerate with: pytest tests/test_golden.py --update-golden
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.plan.diff import diff_snapshots
from tests.conftest import STACKS, dumps, releases

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("stack", STACKS)
def test_plan_matches_golden(snapshots: dict[str, Any], stack: str, update_golden: bool) -> None:
    path = GOLDEN / f"plan-{stack}.json"
    current = dumps(snapshots[stack])
    if update_golden:
        path.write_text(current)
        return
    assert path.exists(), f"no golden plan for '{stack}'; run pytest --update-golden"
    if path.read_text() != current:
        import json

        changes = diff_snapshots(json.loads(path.read_text()), snapshots[stack])
        summary = [f"{c.type} {c.name}: {[x.path for x in c.changes][:5]}" for c in changes.changed]
        pytest.fail(
            f"golden plan for '{stack}' is stale: +{[r['name'] for r in changes.added]} "
            f"-{[r['name'] for r in changes.removed]} ~{summary} outputs {changes.outputs}. "
            "If the change is intended, run: pytest tests/test_golden.py --update-golden"
        )


def helm_values_document(snapshot: dict[str, Any]) -> str:
    """What reaches each chart, by release: the part of a plan reviewers read most closely."""
    document = {
        inputs["name"]: {
            "chart": inputs["chart"],
            "version": inputs["version"],
            "namespace": inputs["namespace"],
            "values": inputs.get("values", {}),
        }
        for inputs in releases(snapshot).values()
    }
    header = (
        "# Helm values per release for this stack, as `pdk plan` computes them offline.\n"
        "# Secrets show as [secret]. Regenerate: pytest tests/test_golden.py --update-golden\n"
    )
    return header + yaml.safe_dump(document, sort_keys=True, width=100)


@pytest.mark.parametrize("stack", STACKS)
def test_helm_values_match_golden(
    snapshots: dict[str, Any], stack: str, update_golden: bool
) -> None:
    path = GOLDEN / f"helm-values-{stack}.yaml"
    current = helm_values_document(snapshots[stack])
    if update_golden:
        path.write_text(current)
        return
    assert path.exists(), f"no golden Helm values for '{stack}'; run pytest --update-golden"
    assert path.read_text() == current, (
        f"Helm values for '{stack}' changed; review with: pytest tests/test_golden.py "
        "--update-golden && git diff tests/golden"
    )


def test_no_golden_file_without_a_stack() -> None:
    expected = {f"plan-{s}.json" for s in STACKS} | {f"helm-values-{s}.yaml" for s in STACKS}
    expected |= set(REVIEW_GOLDEN)
    orphans = {p.name for p in GOLDEN.iterdir()} - expected
    assert not orphans, f"golden files for deleted stacks: {orphans}"


REVIEW_GOLDEN = ("review-onprem.md", "review-local-onprem.md")
"""The pull-request markdown of `pdk diff --format markdown`, for the diffs below."""
REVIEW_CHANGES = {"minioStorageSize": "2Ti", "kserveModelsWebApp": "true", "gpuEnabled": "false"}
"""A pull request's worth of change to `onprem`: one resized volume, an added component, GPUs
off (resources removed). Its review comment is pinned below."""


def review_documents(snapshots: dict[str, Any]) -> dict[str, str]:
    """The PR-comment markdown for real diffs: a changed `onprem`, and `local` -> `onprem`."""
    from infra.config.load import load_config
    from infra.plan.engine import run_program
    from infra.plan.review import render_markdown
    from infra.plan.stackfiles import read_stack

    raw, secret_keys = read_stack("onprem")
    changed_config = load_config("onprem", {**raw, **REVIEW_CHANGES}, secret_keys)
    changed = run_program("onprem", changed_config).to_dict()
    changed["stack"] = "onprem (this PR)"
    return {
        "review-onprem.md": render_markdown(diff_snapshots(snapshots["onprem"], changed), "onprem"),
        "review-local-onprem.md": render_markdown(
            diff_snapshots(snapshots["local"], snapshots["onprem"], hide_identity=True),
            "local → onprem",
        ),
    }


def test_review_markdown_matches_golden(snapshots: dict[str, Any], update_golden: bool) -> None:
    for name, document in review_documents(snapshots).items():
        path = GOLDEN / name
        if update_golden:
            path.write_text(document)
            continue
        assert path.exists(), f"no golden {name}; run pytest tests/test_golden.py --update-golden"
        assert path.read_text() == document, (
            f"{name} is stale; if intended: pytest tests/test_golden.py --update-golden"
        )
