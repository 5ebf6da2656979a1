"""The pull-request review markdown: redaction, folding, the comment, and `pdk diff --format`.
Its rendering of real plan diffs is pinned in tests/golden/review-*.md (tests/test_golden.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from infra.plan import review
from infra.plan.diff import diff_snapshots
from infra.plan.stackfiles import REPO_ROOT


def _snapshot(stack: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"stack": stack, "resources": resources, "outputs": {}}


def _secret(value: str) -> dict[str, Any]:
    return {
        "type": "kubernetes:core/v1:Secret",
        "name": "db",
        "inputs": {"stringData": {"password": value, "host": "db.local"}},
    }


def test_credentials_never_show_even_if_a_snapshot_leaked_one() -> None:
    before = _snapshot("a", [_secret("[secret]")])
    after = _snapshot(
        "a",
        [
            {
                **_secret("hunter2-plaintext"),
                "inputs": {
                    "stringData": {"password": "hunter2-plaintext", "host": "db2.local"},
                    "data": {"aws_secret_access_key": "AKIAxxxx"},
                },
            }
        ],
    )
    text = review.render_markdown(diff_snapshots(before, after), "a")
    assert "hunter2" not in text and "AKIA" not in text
    assert "| `inputs.stringData.password` | `[secret]` | `[secret]` |" in text
    assert "| `inputs.stringData.host` | `db.local` | `db2.local` |" in text


def test_long_diffs_fold_and_cells_stay_table_safe() -> None:
    many = {f"k{i}": i for i in range(review.FOLD_PROPERTIES + 1)}
    before = _snapshot("a", [{"type": "t", "name": "big", "inputs": {}}])
    after = _snapshot(
        "a",
        [{"type": "t", "name": "big", "inputs": {**many, "pipe": "a|b`c`\nd"}}]
        + [{"type": "t", "name": f"new{i}"} for i in range(review.FOLD_RESOURCES + 1)],
    )
    text = review.render_markdown(diff_snapshots(before, after), "a")
    assert "<summary>Added (16)</summary>" in text
    assert "<summary><code>big</code> (<code>t</code>): 10 properties</summary>" in text
    assert "| `inputs.pipe` | — | `a\\|b'c' d` |" in text
    assert text.startswith("### `a`: 16 to add, 1 to change, 0 to replace, 0 to remove\n")


def test_late_differences_in_long_values_are_visible() -> None:
    long_before = "x" * 200 + "-before"
    long_after = "x" * 200 + "-after"
    change = diff_snapshots(
        _snapshot("a", [{"type": "t", "name": "r", "inputs": {"v": long_before}}]),
        _snapshot("a", [{"type": "t", "name": "r", "inputs": {"v": long_after}}]),
    )
    text = review.render_markdown(change, "a")
    assert "-before`" in text and "-after`" in text


def test_comment_has_one_marker_and_a_section_per_stack() -> None:
    plans = {
        "same": _snapshot("same", [{"type": "t", "name": "r"}]),
        "grows": _snapshot("grows", [{"type": "t", "name": "r"}, {"type": "t", "name": "s"}]),
    }
    before = {"same": plans["same"], "grows": _snapshot("grows", [{"type": "t", "name": "r"}])}
    text, changed = review.review_comment(
        "origin/main",
        lambda stack, ref: before[stack],
        lambda stack: plans[stack],
        stacks=["grows", "same"],
    )
    assert changed
    assert text.count(review.COMMENT_MARKER) == 1 and text.startswith(review.COMMENT_MARKER)
    assert "## Offline plan diff against `origin/main`" in text
    assert "### `grows`: 1 to add, 0 to change, 0 to replace, 0 to remove" in text
    assert "No changes: `same`." in text and "### `same`" not in text
    quiet, changed = review.review_comment(
        "main", lambda stack, ref: plans[stack], lambda stack: plans[stack], stacks=["same"]
    )
    assert not changed and "No stack's plan changes." in quiet


def test_comment_stays_under_githubs_limit() -> None:
    sections = {f"s{i}": "x" * 1000 + "\n" for i in range(100)}
    text = review.comment(sections, [], "main")
    assert len(text) < 65_536 and text.endswith("`plan-diff` artifact._\n")


def test_diff_format_json_matches_json_and_markdown_exits_1() -> None:
    def pdk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "infra.cli", "diff", "local", "onprem", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    as_json = pdk("--format", "json")
    assert as_json.returncode == 1
    document = json.loads(as_json.stdout)
    assert document["left"] == "local" and document["right"] == "onprem"
    assert {"type": "pdk:platform:Istio", "name": "istio"} in document["added"]
    bad = pdk("--format", "html")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_diff_against_a_ref_without_a_stack_writes_the_whole_comment(monkeypatch: Any) -> None:
    """The command line the plan-diff workflow runs; planning is swapped for small snapshots
    here (the real planning at a ref is covered by tests/test_cli.py)."""
    from typer.testing import CliRunner

    from infra import cli

    monkeypatch.setattr(cli, "_snapshot_at_ref", lambda stack, ref: _snapshot(stack, []))
    monkeypatch.setattr(
        cli, "_snapshot", lambda stack: _snapshot(stack, [{"type": "t", "name": "r"}])
    )
    result = CliRunner().invoke(
        cli.app, ["diff", "--against", "origin/main", "--format", "markdown"]
    )
    assert result.exit_code == 1
    assert result.output.startswith(review.COMMENT_MARKER)
    for stack in ("aws", "local", "onprem"):
        assert f"### `{stack}`: 1 to add, 0 to change, 0 to replace, 0 to remove" in result.output
