"""The example manifest: ``examples/<name>/example.yaml``, the one file that names an example's
MLDM, MLDE and KServe objects.

The stack reads it to declare the example's MLDM project, repo and pipelines and its MLDE
workspace and project; the train and deploy containers read it to know which registry model,
experiment config, handler and serving settings to use. Adding an example is adding a folder
with this file, an ``experiment/`` and a ``handler.py``; no code names an example.

This module imports only pydantic and PyYAML, so the Pulumi program can import it without the
ML stack.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

MANIFEST_FILE = "example.yaml"
"""The manifest's file name inside an example folder."""

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
"""The repository's examples folder (one sub-folder per example)."""

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CLASS_NAME = re.compile(r"^[a-z0-9]+$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")


class ManifestError(ValueError):
    """A missing or malformed manifest; the message names the file and every problem."""


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value) or len(value) > 63:
        raise ValueError(
            f"{value!r} is not a Kubernetes name: use 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _relative_path(value: str) -> str:
    if not value or value.startswith("/") or ".." in Path(value).parts:
        raise ValueError(f"{value!r} must be a path inside the example folder, e.g. 'experiment'")
    return value


def _quantities(value: dict[str, str]) -> dict[str, str]:
    for resource, amount in value.items():
        if not _QUANTITY.match(str(amount)):
            raise ValueError(
                f"{resource}: {amount!r} is not a Kubernetes quantity (e.g. 500m, 2, 1Gi)"
            )
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
RelativePath = Annotated[str, AfterValidator(_relative_path)]
Quantities = Annotated[dict[str, str], AfterValidator(_quantities)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MldmNames(_Strict):
    """The example's MLDM (Pachyderm) objects."""

    project: DnsLabel
    """MLDM project holding the repo and both pipelines, e.g. ``pdk-dogs-and-cats``."""
    repo: DnsLabel
    """Input repo users commit data to, e.g. ``dogs-and-cats-data``."""
    train_pipeline: DnsLabel
    """Pipeline that trains on each commit of ``repo``, e.g. ``dogs-and-cats-model``."""
    deploy_pipeline: DnsLabel
    """Pipeline that serves each model the train pipeline writes, e.g. ``dogs-and-cats-deploy``."""


class MldeNames(_Strict):
    """The example's MLDE (Determined) objects."""

    workspace: str = Field(min_length=1)
    """MLDE workspace of the experiments, e.g. ``PDK Demos``."""
    project: str = Field(min_length=1)
    """MLDE project inside ``workspace``, e.g. ``pdk-dogs-and-cats``."""
    model: DnsLabel
    """Model registry name the best checkpoints are registered under, e.g. ``dogs-and-cats``."""


class ExperimentSpec(_Strict):
    """Where the experiment code lives and how it is trained."""

    dir: RelativePath = "experiment"
    """Folder (relative to the example) holding the experiment code; default ``experiment``."""
    config: RelativePath = "const.yaml"
    """Experiment config file inside ``dir``; default ``const.yaml``."""
    trial: str = Field(default="model_def:Trial", pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    """``module:Class`` of the PyTorchTrial inside ``dir``; deploy rebuilds the trained model
    from it; default ``model_def:Trial``."""
    incremental: bool = False
    """When true, each commit continues from the registry model's latest version and trains only
    on files added since the previous commit; default false (train from scratch on the whole
    commit)."""


class Resources(_Strict):
    """Kubernetes resource requests and limits of the predictor container."""

    requests: Quantities = Field(default_factory=lambda: {"cpu": "1", "memory": "2Gi"})
    """Requests; default 1 CPU and 2Gi."""
    limits: Quantities = Field(default_factory=lambda: {"cpu": "2", "memory": "4Gi"})
    """Limits; default 2 CPUs and 4Gi. Add ``nvidia.com/gpu`` to serve on a GPU node."""


class Serving(_Strict):
    """How KServe and TorchServe serve the model."""

    model_name: DnsLabel
    """TorchServe/KServe model name: the URL is ``/v1/models/<model_name>:predict`` and the bucket
    prefix is ``<model_name>/``."""
    inference_service: DnsLabel
    """Name of the InferenceService, e.g. ``dog-cat``."""
    handler: RelativePath = "handler.py"
    """TorchServe handler file, relative to the example; default ``handler.py``."""
    extra_files: list[RelativePath] = Field(default_factory=list)
    """Files (relative to the example) packed into the ``.mar`` beside the handler, which can
    import them as modules, e.g. the experiment's transforms; default none."""
    min_workers: int = Field(default=1, ge=1)
    """TorchServe workers started for the model; default 1."""
    max_workers: int = Field(default=1, ge=1)
    """Most TorchServe workers; default 1, at least ``min_workers``."""
    batch_size: int = Field(default=1, ge=1)
    """Requests TorchServe batches into one handler call; default 1."""
    max_batch_delay_ms: int = Field(default=100, ge=0)
    """Longest wait (ms) for a batch to fill; default 100."""
    response_timeout_s: int = Field(default=120, ge=1)
    """Seconds a worker may take to answer before TorchServe restarts it; default 120."""
    resources: Resources = Field(default_factory=Resources)
    """Predictor resources."""
    gpu_toleration: bool = False
    """Let the predictor run on GPU nodes: it tolerates the stack's GPU taint (``gpuTaint``,
    which the pipeline hands the deploy step in ``PDK_GPU_TOLERATION``); default false, set it
    together with an ``nvidia.com/gpu`` limit."""
    max_request_mb: int = Field(default=16, ge=1, le=256)
    """Largest request body (MiB) the handler accepts; larger ones get HTTP 400 with a JSON
    message naming the limit. TorchServe's own ``max_request_size`` is set to twice this, so
    bodies between the two reach the handler's message and only larger ones get TorchServe's
    bare 413; default 16 (a 10 MB JPEG in base64 fits; TorchServe's default, 6.5 MB, does not
    fit a 5 MB one)."""

    @model_validator(mode="after")
    def _workers(self) -> Serving:
        if self.max_workers < self.min_workers:
            raise ValueError("max_workers must be at least min_workers")
        return self


def _classes(value: list[str]) -> list[str]:
    for label in value:
        if not _CLASS_NAME.match(label):
            raise ValueError(
                f"class {label!r} must be lowercase letters and digits only: a file's label is "
                "its name's leading token before '.', '_' or '-'"
            )
    if len(set(value)) != len(value):
        raise ValueError(f"classes {value} repeat a name")
    return value


DataKind = Literal["images", "table"]


class DataSpec(_Strict):
    """What a data commit holds, so the train container can check it by file names alone
    (MLDM mounts it with empty files) before starting an experiment."""

    kind: DataKind = "images"
    """``images``: labelled image files (``pdk_assets.labels``; needs ``classes``).
    ``table``: CSV or Parquet files (``pdk_assets.tables``) the trial reads rows from; default
    ``images``."""
    min_per_class: int = Field(default=2, ge=2)
    """``images``: usable images each class needs (one to train, one to validate); default 2."""
    min_rows: int = Field(default=20, ge=2)
    """``table``: usable rows the trial needs after dropping bad ones; default 20."""


class DryRunSpec(_Strict):
    """How ``pdk example run NAME --local`` exercises the example."""

    samples: RelativePath = "samples.py"
    """Module (relative to the example) with ``write_data(root: Path) -> Path`` (a generated
    data commit) and ``request_cases(root: Path) -> list[pdk_assets.samples.RequestCase]``
    (requests to send once served, with what each should answer); default ``samples.py``."""
    max_batches: int = Field(default=20, ge=1)
    """Training batches in the dry run; default 20."""
    hparams: dict[str, Any] = Field(default_factory=dict)
    """Hyperparameters the dry run overrides (a smaller network, so a laptop CPU trains it in
    seconds); default none."""


class ExampleManifest(_Strict):
    """One example: its data, labels and the names of everything the flow creates for it."""

    name: DnsLabel
    """The example's name; equals its folder name under ``examples/``."""
    description: str = ""
    """One line shown in listings."""
    data: DataSpec = Field(default_factory=DataSpec)
    classes: Annotated[list[str], AfterValidator(_classes)] = Field(default_factory=list)
    """Ordered labels of a classifier: the model's output index ``i`` means ``classes[i]``; at
    least 2 with ``data.kind: images``, none otherwise."""
    mldm: MldmNames
    mlde: MldeNames
    experiment: ExperimentSpec = Field(default_factory=ExperimentSpec)
    serving: Serving
    dry_run: DryRunSpec = Field(default_factory=DryRunSpec)

    @model_validator(mode="after")
    def _classes_fit_the_data(self) -> ExampleManifest:
        if self.data.kind == "images" and len(self.classes) < 2:
            raise ValueError("classes: an image classifier needs at least 2 classes")
        if self.data.kind != "images" and self.classes:
            raise ValueError(
                f"classes: only data.kind 'images' has classes, not {self.data.kind!r}"
            )
        return self

    _folder: Path | None = PrivateAttr(default=None)

    @property
    def folder(self) -> Path:
        """The example folder the manifest was loaded from."""
        if self._folder is None:
            raise ManifestError(f"manifest {self.name!r} was not loaded from a folder")
        return self._folder

    @property
    def experiment_dir(self) -> Path:
        return self.folder / self.experiment.dir

    @property
    def experiment_config(self) -> Path:
        return self.experiment_dir / self.experiment.config

    @property
    def handler(self) -> Path:
        return self.folder / self.serving.handler

    @property
    def samples(self) -> Path:
        return self.folder / self.dry_run.samples


def trial_module_file(trial: str) -> str:
    """The file of a ``module:Class`` trial spec, relative to the experiment folder."""
    return trial.partition(":")[0].replace(".", "/") + ".py"


def load_manifest(path: str | Path) -> ExampleManifest:
    """Loads ``example.yaml`` (``path`` is the file or its folder) and checks that the files it
    names exist. Raises ``ManifestError`` naming the file and every problem."""
    path = Path(path)
    file = path / MANIFEST_FILE if path.is_dir() else path
    if not file.is_file():
        raise ManifestError(
            f"{file}: no example manifest here; an example folder needs an {MANIFEST_FILE} "
            "(see examples/README.md)"
        )
    try:
        raw = yaml.safe_load(file.read_text())
    except yaml.YAMLError as error:
        raise ManifestError(f"{file}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ManifestError(f"{file}: expected a mapping of fields, got {type(raw).__name__}")
    try:
        manifest = ExampleManifest.model_validate(raw)
    except ValidationError as error:
        problems = [
            f"  {'.'.join(str(part) for part in item['loc']) or '(top)'}: {item['msg']}"
            for item in error.errors()
        ]
        raise ManifestError(f"{file}: invalid manifest:\n" + "\n".join(problems)) from None
    manifest._folder = file.resolve().parent
    problems = []
    if manifest.name != manifest.folder.name:
        problems.append(
            f"  name: {manifest.name!r} differs from the folder name {manifest.folder.name!r}"
        )
    trial_file = manifest.experiment_dir / trial_module_file(manifest.experiment.trial)
    extras = [manifest.folder / extra for extra in manifest.serving.extra_files]
    needed_files = [
        ("experiment config", manifest.experiment_config),
        ("experiment.trial", trial_file),
        ("serving.handler", manifest.handler),
        ("dry_run.samples", manifest.samples),
        *(("serving.extra_files", extra) for extra in extras),
    ]
    for label, needed in needed_files:
        if not needed.is_file():
            problems.append(f"  {label}: {needed} does not exist")
    if problems:
        raise ManifestError(f"{file}: invalid manifest:\n" + "\n".join(problems))
    return manifest


def load_examples(root: str | Path = EXAMPLES_DIR) -> list[ExampleManifest]:
    """Every example under ``root`` (folders with an ``example.yaml``), sorted by name."""
    return [
        load_manifest(folder)
        for folder in sorted(Path(root).iterdir())
        if (folder / MANIFEST_FILE).is_file()
    ]
