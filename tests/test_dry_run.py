"""The local dry run end to end on tiny generated data: MLDE local training, TorchScript,
.mar, real TorchServe with the generated config.properties, KServe v1 requests (malformed ones
included: each must get its 400, never a 5xx)."""

from __future__ import annotations

import io
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from infra.cli import app
from infra.ops import verify
from pdk_assets.dryrun import DryRunResult, dry_run
from pdk_assets.envelope import request_body
from pdk_assets.labels import SKIP_HIDDEN, SKIP_UNREADABLE
from pdk_assets.local import LocalTorchServe
from pdk_assets.manifest import EXAMPLES_DIR, load_examples, load_manifest
from pdk_assets.samples import load_samples
from pdk_assets.synthetic import request_images, write_dataset

pytestmark = pytest.mark.slow

MANIFEST = load_manifest(EXAMPLES_DIR / "dog-cat")


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _fake_torchserve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> subprocess.Popen[bytes]:
    """Another TorchServe on this machine, as TorchServe sees one: a live process whose command
    line names its Java class, in the pid file of the system temporary folder."""
    shared_tmp = tmp_path / "system-tmp"
    shared_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(shared_tmp))
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)", "org.pytorch.serve.ModelServer"]
    )
    (shared_tmp / ".model_server.pid").write_text(str(other.pid))
    return other


def _check_dog_cat(result: DryRunResult, workdir: Path) -> None:
    assert result.items == 16
    assert result.skipped == {SKIP_HIDDEN: 1, SKIP_UNREADABLE: 1}
    assert result.model_info["name"] == "dogs-and-cats"
    bucket = workdir / "bucket/models/dogs-and-cats"
    assert (bucket / "model-store/dogs-and-cats.mar").is_file()
    images = [p for p in result.predictions if p.expected is not None]
    assert len(images) == 5
    assert all(p.status == 200 for p in images)
    # Separable synthetic classes and seeded local training: every fresh image is right, and
    # base64 with coreutils' line breaks decodes (FIX: it was a 400).
    assert [MANIFEST.classes[p.predicted] for p in images] == [p.expected for p in images]
    (large,) = [p for p in result.predictions if p.request.endswith("MB JPEG")]
    assert large.status == 200 and large.predicted in (0, 1)
    bad = {p.request: p for p in result.predictions if p.expected_status != 200}
    assert set(bad) >= {"20000x20000 PNG", "not an image"}
    assert "not a decodable image" in bad["not an image"].answer["message"]
    assert "400000000 pixels" in bad["20000x20000 PNG"].answer["message"]


def _check_taxi(result: DryRunResult, workdir: Path) -> None:
    """The served model beats predicting the training mean on held-out synthetic trips."""
    taxi = load_manifest(EXAMPLES_DIR / "taxi")
    samples = load_samples(taxi)
    assert result.items == 3  # two yellow-taxi files and the FHV file (names only)
    assert result.model_info["name"] == "taxi-travel-time"
    sys.path.insert(0, str(taxi.experiment_dir))
    try:
        import data as taxi_data  # type: ignore[import-not-found]

        trips = taxi_data.load_trips(workdir / "data")
    finally:
        sys.path.pop(0)
        for name in ("data", "features"):
            sys.modules.pop(name, None)
    # Bad rows are dropped and counted, the FHV file is rejected by its columns.
    assert set(trips.dropped) == {"missing value", "non-positive duration", "outside the city"}
    assert list(trips.rejected) == ["fhv_tripdata_2024-01.csv"]
    train, _ = taxi_data.split(trips, 0.2)
    mean = float(trips.seconds[train].mean())  # the baseline: the training set's mean
    (held,) = [p for p in result.predictions if p.request.startswith(samples.HELD_OUT)]
    assert held.status == 200
    _, seconds = samples.held_out()
    predicted = held.answer["predictions"]
    assert len(predicted) == len(seconds)
    model_mae = statistics.fmean(abs(p - s) for p, s in zip(predicted, seconds, strict=True))
    baseline_mae = statistics.fmean(abs(mean - s) for s in seconds)
    assert model_mae < 0.5 * baseline_mae, (model_mae, baseline_mae)
    bad = {p.request: p for p in result.predictions if p.expected_status != 200}
    assert "outside New York City" in bad["drop-off at (0, 0)"].answer["message"]
    assert "trip_distance is missing" in bad["no trip_distance"].answer["message"]


CHECKS = {"dog-cat": _check_dog_cat, "taxi": _check_taxi}


def test_every_example_has_its_dry_run_checks() -> None:
    assert sorted(CHECKS) == [manifest.name for manifest in load_examples()]


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_dry_run_trains_serves_and_answers(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = load_manifest(EXAMPLES_DIR / name)
    seen: dict[str, int] = {}
    # FIX: the dry run failed with "TorchServe is already running" beside another TorchServe.
    other = _fake_torchserve(tmp_path, monkeypatch)

    def while_serving(served: LocalTorchServe, result: DryRunResult) -> None:
        (server,) = served.servers.values()
        seen["pid"] = server.process.pid
        assert _group_alive(server.process.pid)
        # `pdk verify`'s health and predict calls, against this real TorchServe: the KServe v1
        # path and a Host header (which a gateway routes on; TorchServe ignores it).
        base = f"http://127.0.0.1:{server.ports['inference']}"
        host = f"{manifest.serving.inference_service}.models.example.com"
        assert "Healthy" in verify.ping(verify.http_request, base, host)
        if name == "dog-cat":  # verify --flow predicts with dog-cat's generated images
            image = request_images(tmp_path / "verify", MANIFEST.classes)[0]
            body = json.dumps(request_body([image.read_bytes()])).encode()
            answer = verify.predict(
                verify.http_request, base, host, MANIFEST.serving.model_name, body
            )
            seen["verify"] = answer["predictions"][0]

    output = io.StringIO()
    workdir = tmp_path / "run"
    try:
        result = dry_run(
            manifest,
            console=Console(file=output, width=160),
            workdir=workdir,
            after_ready=while_serving,
        )
    finally:
        other.kill()
        other.wait()
    assert result.model_info["example"] == name
    # The handler contract, for every example: malformed requests get 400 with a message, and
    # never a 5xx (FIX: an empty body and invalid JSON were 503 "Prediction failed", and a body
    # over TorchServe's default max_request_size an empty 413 or a reset).
    statuses = {p.request: (p.status, p.expected_status) for p in result.predictions}
    assert all(got == wanted for got, wanted in statuses.values()), statuses
    bad = {p.request: p for p in result.predictions if p.expected_status != 200}
    assert set(bad) >= {"empty body", "invalid JSON", "no instances", "empty instances"}
    assert "empty request body" in bad["empty body"].answer["message"]
    assert "not valid JSON" in bad["invalid JSON"].answer["message"]
    (oversized,) = [p for name, p in bad.items() if name.startswith("oversized")]
    limit = manifest.serving.max_request_mb
    assert f"at most {limit} MiB per request" in oversized.answer["message"]
    CHECKS[name](result, workdir)

    assert not _group_alive(seen["pid"]), "TorchServe must be stopped after the run"
    if name == "dog-cat":
        assert seen["verify"] in (0, 1), seen
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
    # The console wraps long lines (a long checkout path moves the break): compare words.
    assert no_local.exit_code == 2 and "add --local" in " ".join(no_local.output.split())
    unknown = runner.invoke(app, ["example", "run", "no-such-example", "--local"])
    assert unknown.exit_code == 2
    assert "no example manifest here" in " ".join(unknown.output.split())
    no_data = runner.invoke(
        app, ["example", "run", "dog-cat", "--local", "--data", str(tmp_path / "missing")]
    )
    assert no_data.exit_code == 2 and "not a folder" in " ".join(no_data.output.split())
