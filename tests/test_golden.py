"""Golden plans: each stack's full snapshot is committed, so any change in what would be
deployed shows up as a reviewed diff. Regenerate with: pytest tests/test_golden.py --update-golden
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.plan.diff import diff_snapshots
from tests.conftest import STACKS, dumps

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


def test_no_golden_file_without_a_stack() -> None:
    orphans = {p.name for p in GOLDEN.glob("plan-*.json")} - {f"plan-{s}.json" for s in STACKS}
    assert not orphans, f"golden files for deleted stacks: {orphans}"
