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
from pdk_assets.labels import scan
from pdk_assets.local import LocalMlde, LocalTorchServe
from pdk_assets.manifest import ExampleManifest
from pdk_assets.samples import RequestCase, malformed_cases, request_cases, write_data
from pdk_assets.serving import max_request_bytes
from pdk_assets.storage import LocalStore
from pdk_assets.tables import table_files
from pdk_assets.train import MldmConnection, TrainError, TrainJob, run_train

LOCAL_BUCKET = "models"
LOCAL_NAMESPACE = "models"
LOCAL_DEPLOYMENT_ID = "dry-run"
SHOWN_PREDICTIONS = 5
"""Predictions of one answer shown in the table; the rest are counted."""


@dataclass(frozen=True)
class Prediction:
    request: str
    """Request name (an image file's name, what a malformed request is)."""
    expected: Any
    """What a correct model answers for the first instance, when known."""
    status: int
    """HTTP status."""
    answer: Any
    """Decoded response body."""
    expected_status: int = 200
    """The status the request must get."""

    @property
    def predicted(self) -> Any:
        """The first prediction of a 200 answer, else None."""
        if self.status == 200 and isinstance(self.answer, dict):
            values = self.answer.get("predictions") or [None]
            return values[0]
        return None


@dataclass
class DryRunResult:
    items: int = 0
    """Usable items in the data commit: labelled, decodable images or data files."""
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
    requests: Sequence[RequestCase] = (),
    max_batches: int | None = None,
    hparams: dict[str, Any] | None = None,
    console: Console | None = None,
    workdir: Path | None = None,
    after_ready: Callable[[LocalTorchServe, DryRunResult], None] | None = None,
) -> DryRunResult:
    """Runs ``manifest``'s flow locally and returns what happened. ``data``: a folder standing
    in for the MLDM commit (default: the example's generated set); ``requests``: what to send
    (default: the example's request cases, malformed ones included); ``max_batches`` and
    ``hparams`` default to the manifest's ``dry_run``. TorchServe is always stopped;
    ``after_ready`` runs while it still serves (benchmarks)."""
    console = console or Console()
    result = DryRunResult()
    with tempfile.TemporaryDirectory(prefix="pdk-dry-run-") as temporary:
        root = Path(workdir or temporary)
        job_id = uuid.uuid4().hex  # MLDM job ids are 32 hex digits
        with _stage(console, result, "data", "Data commit"):
            if data is None:
                data = write_data(manifest, root)
                _say(console)(f"generated {data} (no --data given)")
            if manifest.data.kind == "table":
                files = table_files(data)
                result.items, result.skipped = len(files.files), dict(files.skipped)
                _say(console)(f"{data}: {files.summary()}")
            else:
                found = scan(data, manifest.classes)
                result.items, result.skipped = len(found.items), dict(found.skipped)
                _say(console)(f"{data}: {found.summary(manifest.classes)}")

        max_batches = max_batches or manifest.dry_run.max_batches
        overrides = manifest.dry_run.hparams if hparams is None else hparams
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
            console.print("[yellow]nothing to deploy: the data is too small to train on[/]")
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
                    DeployTarget(
                        LOCAL_BUCKET,
                        LOCAL_NAMESPACE,
                        wait_timeout_s=180,
                        deployment_id=LOCAL_DEPLOYMENT_ID,
                    ),
                    wait=True,
                    workdir=root / "deploy",
                    say=_say(console),
                    sleep=lambda seconds: time.sleep(min(seconds, 0.5)),
                )
            with _stage(console, result, "predict", "Predict (KServe v1 requests)"):
                cases = list(requests) or [
                    *request_cases(manifest, root),
                    *malformed_cases(max_request_bytes(manifest)),
                ]
                result.predictions = _predict(manifest, served, cases)
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
    manifest: ExampleManifest, served: LocalTorchServe, cases: Sequence[RequestCase]
) -> list[Prediction]:
    predictions = []
    for case in cases:
        status, answer = served.predict(
            LOCAL_NAMESPACE, manifest.serving.inference_service, case.body
        )
        predictions.append(Prediction(case.name, case.expected, status, answer, case.status))
    return predictions


def _answer_text(manifest: ExampleManifest, item: Prediction) -> str:
    predicted = item.predicted
    if predicted is not None:
        values = item.answer["predictions"]
        text = json.dumps(item.answer)
        if len(values) > SHOWN_PREDICTIONS:
            shown = ", ".join(json.dumps(v) for v in values[:SHOWN_PREDICTIONS])
            text = f'{{"predictions": [{shown}, ...]}} ({len(values)} predictions)'
        if isinstance(predicted, int) and 0 <= predicted < len(manifest.classes):
            text += f" = {manifest.classes[predicted]}"
        return text
    if isinstance(item.answer, dict):
        return str(item.answer.get("message", item.answer))
    return str(item.answer) or "(empty)"


def _print_predictions(
    console: Console, manifest: ExampleManifest, predictions: Sequence[Prediction]
) -> None:
    table = Table(title=f"{manifest.serving.model_name} predictions")
    for column in ("request", "expected", "HTTP", "answer"):
        table.add_column(column, overflow="fold")
    for item in predictions:
        expected = "-" if item.expected is None else str(item.expected)
        if item.expected_status != 200:
            expected = f"HTTP {item.expected_status}"
        table.add_row(item.request, expected, str(item.status), _answer_text(manifest, item))
    console.print(table)


__all__ = ["DryRunResult", "Prediction", "TrainError", "dry_run"]
