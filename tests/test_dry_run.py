"""The local dry run end to end on tiny generated images: MLDE local training, TorchScript,
.mar, real TorchServe with the generated config.properties, KServe v1 requests."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from infra.cli import app
from pdk_assets.dryrun import DryRunResult, dry_run
from pdk_assets.labels import SKIP_HIDDEN, SKIP_UNREADABLE
from pdk_assets.local import LocalTorchServe
from pdk_assets.manifest import EXAMPLES_DIR, load_manifest
from pdk_assets.synthetic import request_images, write_dataset

pytestmark = pytest.mark.slow

MANIFEST = load_manifest(EXAMPLES_DIR / "dog-cat")


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_dry_run_trains_serves_and_answers(tmp_path: Path) -> None:
    seen: dict[str, int] = {}

    def while_serving(served: LocalTorchServe, result: DryRunResult) -> None:
        (server,) = served.servers.values()
        seen["pid"] = server.process.pid
        assert _group_alive(server.process.pid)

    output = io.StringIO()
    result = dry_run(
        MANIFEST,
        console=Console(file=output, width=160),
        workdir=tmp_path,
        after_ready=while_serving,
    )
    assert result.images == 16
    assert result.skipped == {SKIP_HIDDEN: 1, SKIP_UNREADABLE: 1}
    assert result.model_info["name"] == "dogs-and-cats"
    assert (tmp_path / "bucket/models/dogs-and-cats/model-store/dogs-and-cats.mar").is_file()

    images = [p for p in result.predictions if p.expected is not None]
    assert len(images) == 4
    assert all(p.status == 200 for p in images)
    # Separable synthetic classes and seeded local training: every fresh image is right.
    assert [MANIFEST.classes[p.predicted or 0] for p in images] == [p.expected for p in images]
    (bad,) = [p for p in result.predictions if p.expected is None]
    assert bad.status == 400
    assert "not a decodable image" in bad.answer["message"]

    assert not _group_alive(seen["pid"]), "TorchServe must be stopped after the run"
    text = output.getvalue()
    for stage in ("Data commit", "Train", "Deploy", "Predict", "TorchServe stopped"):
        assert stage in text


def test_cli_runs_an_example_on_given_data_and_requests(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data", MANIFEST.classes, per_class=4)
    (cat,) = [p for p in request_images(tmp_path / "req", MANIFEST.classes, 1) if "cat" in p.name]
    result = CliRunner().invoke(
        app,
        ["example", "run", "dog-cat", "--local", "--data", str(data), "--request", str(cat)],
    )
    assert result.exit_code == 0, result.output
    assert "8 images (4 dog, 4 cat); skipped 2" in result.output
    row = re.search(r"cat\.request0\.jpg\s*│ cat\s*│ 200\s*│ (.*?)│", result.output)
    assert row is not None, result.output
    assert row.group(1).strip() == '{"predictions": [1]} = cat'


def test_cli_refuses_without_local_and_unknown_examples(tmp_path: Path) -> None:
    runner = CliRunner()
    no_local = runner.invoke(app, ["example", "run", "dog-cat"])
    assert no_local.exit_code == 2 and "add --local" in no_local.output
    unknown = runner.invoke(app, ["example", "run", "no-such-example", "--local"])
    assert unknown.exit_code == 2 and "no example manifest here" in unknown.output
    no_data = runner.invoke(
        app, ["example", "run", "dog-cat", "--local", "--data", str(tmp_path / "missing")]
    )
    assert no_data.exit_code == 2 and "not a folder" in " ".join(no_data.output.split())
