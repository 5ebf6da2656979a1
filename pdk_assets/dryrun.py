"""The local dry run: an example's whole path (data → train → register → deploy → predict) on
this machine, through the train and deploy containers' own code (``run_train``,
``run_deploy``), with local stand-ins (``pdk_assets.local``) only for MLDE, the bucket and
KServe. ``pdk example run NAME --local [--data DIR]`` calls ``dry_run``.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pdk_assets import env
from pdk_assets.deploy import DeployTarget, run_deploy
from pdk_assets.envelope import request_body
from pdk_assets.labels import scan
from pdk_assets.local import LocalMlde, LocalTorchServe
from pdk_assets.manifest import ExampleManifest
from pdk_assets.storage import LocalStore
from pdk_assets.synthetic import request_images, write_dataset
from pdk_assets.train import MldmConnection, TrainError, TrainJob, run_train

LOCAL_BUCKET = "models"
LOCAL_NAMESPACE = "models"
DEFAULT_MAX_BATCHES = 20
DRY_RUN_HPARAMS: dict[str, Any] = {"depth": 10, "width": 16}
"""Hyperparameters the dry run overrides when the experiment has them: ResNet-10 at width 16
trains about 4x faster on a CPU than const.yaml's ResNet-18 at width 32, and the point is the
path, not the accuracy. ``hparams={}`` trains the configured network."""


@dataclass(frozen=True)
class Prediction:
    request: str
    """Request name (the image file's name)."""
    expected: str | None
    """Class by the labelling rule, when the name has one."""
    status: int
    """HTTP status."""
    answer: Any
    """Decoded response body."""

    @property
    def predicted(self) -> int | None:
        if self.status == 200 and isinstance(self.answer, dict):
            values = self.answer.get("predictions") or [None]
            return values[0] if isinstance(values[0], int) else None
        return None


@dataclass
class DryRunResult:
    images: int = 0
    """Labelled images in the data commit."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Files skipped, by reason."""
    model_info: dict[str, Any] = field(default_factory=dict)
    predictions: list[Prediction] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage."""
    served: LocalTorchServe | None = None
    """Set while ``keep_serving`` holds the server open (benchmarks)."""


@contextmanager
def _stage(console: Console, result: DryRunResult, key: str, title: str) -> Iterator[None]:
    started = time.perf_counter()
    with console.status(f"[bold]{title}[/]…"):
        yield
    result.timings[key] = time.perf_counter() - started
    console.print(f"[green]✓[/] {title} [dim]({result.timings[key]:.1f}s)[/]")


def _say(console: Console) -> Callable[[str], None]:
    return lambda message: console.print(f"  [dim]{message}[/]", highlight=False)


def dry_run(
    manifest: ExampleManifest,
    *,
    data: Path | None = None,
    requests: Sequence[Path] = (),
    max_batches: int = DEFAULT_MAX_BATCHES,
    hparams: dict[str, Any] | None = None,
    console: Console | None = None,
    workdir: Path | None = None,
    after_ready: Callable[[LocalTorchServe, DryRunResult], None] | None = None,
) -> DryRunResult:
    """Runs ``manifest``'s flow locally and returns what happened. ``data``: a folder standing
    in for the MLDM commit (default: a generated set); ``requests``: images to send (default:
    fresh generated images plus one undecodable request). TorchServe is always stopped;
    ``after_ready`` runs while it still serves (benchmarks)."""
    console = console or Console()
    result = DryRunResult()
    with tempfile.TemporaryDirectory(prefix="pdk-dry-run-") as temporary:
        root = Path(workdir or temporary)
        job_id = uuid.uuid4().hex  # MLDM job ids are 32 hex digits
        with _stage(console, result, "data", "Data commit"):
            if data is None:
                data = write_dataset(root / "data", manifest.classes)
                _say(console)(f"generated {data} (no --data given)")
            found = scan(data, manifest.classes)
            result.images = len(found.items)
            result.skipped = dict(found.skipped)
            _say(console)(f"{data}: {found.summary(manifest.classes)}")

        overrides = DRY_RUN_HPARAMS if hparams is None else hparams
        mlde = LocalMlde(root / "mlde", max_batches=max_batches, hparams=overrides)
        with _stage(console, result, "train", f"Train ({max_batches} batches, MLDE local mode)"):
            info = run_train(
                manifest,
                mlde,
                TrainJob(job_id, manifest.mldm.train_pipeline, data, root / "pfs-out"),
                MldmConnection("localhost", 30650),
                say=_say(console),
                local_dir=data.resolve(),
            )
        if info is None:
            console.print("[yellow]nothing to deploy: the data has no labelled images[/]")
            return result
        result.model_info = info.model_dump()

        served = LocalTorchServe(root / "bucket", root / "serve")
        try:
            with _stage(console, result, "deploy", "Deploy (TorchScript, .mar, TorchServe)"):
                run_deploy(
                    manifest,
                    root / "pfs-out" / env.MODEL_INFO_FILE,
                    mlde,
                    LocalStore(root / "bucket"),
                    served,
                    DeployTarget(LOCAL_BUCKET, LOCAL_NAMESPACE, wait_timeout_s=180),
                    wait=True,
                    workdir=root / "deploy",
                    say=_say(console),
                    sleep=lambda seconds: time.sleep(min(seconds, 0.5)),
                )
            with _stage(console, result, "predict", "Predict (KServe v1 requests)"):
                result.predictions = _predict(manifest, served, root, requests)
            _print_predictions(console, manifest, result.predictions)
            if after_ready is not None:
                result.served = served
                after_ready(served, result)
        finally:
            stopping = time.perf_counter()
            served.stop()
            result.served = None
            result.timings["stop"] = time.perf_counter() - stopping
            console.print(f"[green]✓[/] TorchServe stopped [dim]({result.timings['stop']:.1f}s)[/]")
    return result


def _predict(
    manifest: ExampleManifest, served: LocalTorchServe, root: Path, requests: Sequence[Path]
) -> list[Prediction]:
    from pdk_assets.labels import label_for

    images = list(requests) or request_images(root / "requests", manifest.classes)
    bodies: list[tuple[str, str | None, bytes]] = []
    for image in images:
        label = label_for(image.name, manifest.classes)
        expected = manifest.classes[label] if label is not None else None
        bodies.append(
            (image.name, expected, json.dumps(request_body([image.read_bytes()])).encode())
        )
    if not requests:
        bad = json.dumps({"instances": [{"data": "bm90IGFuIGltYWdl"}]}).encode()  # "not an image"
        bodies.append(("not-an-image (expect 400)", None, bad))
    predictions = []
    for name, expected, body in bodies:
        status, answer = served.predict(LOCAL_NAMESPACE, manifest.serving.inference_service, body)
        predictions.append(Prediction(name, expected, status, answer))
    return predictions


def _print_predictions(
    console: Console, manifest: ExampleManifest, predictions: Sequence[Prediction]
) -> None:
    table = Table(title=f"{manifest.serving.model_name} predictions")
    for column in ("request", "expected", "HTTP", "answer"):
        table.add_column(column)
    for item in predictions:
        predicted = item.predicted
        answer = (
            f"{json.dumps(item.answer)} = {manifest.classes[predicted]}"
            if predicted is not None and 0 <= predicted < len(manifest.classes)
            else str(item.answer.get("message", item.answer))
            if isinstance(item.answer, dict)
            else str(item.answer)
        )
        table.add_row(item.request, item.expected or "-", str(item.status), answer)
    console.print(table)


__all__ = ["DryRunResult", "Prediction", "TrainError", "dry_run"]
