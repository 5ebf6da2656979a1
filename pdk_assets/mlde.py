"""The MLDE (Determined) boundary: the few calls the flow makes, as a Protocol, and its
implementation with the ``determined`` SDK. Tests fake ``MldeClient`` and assert the calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

MLDM_COMMIT_KEY = "pdk_mldm_commit"
"""Checkpoint metadata key holding the MLDM commit a registered checkpoint was trained on;
incremental training diffs the next commit against it."""


@dataclass(frozen=True)
class ModelVersionRef:
    """A registered model version."""

    version: int
    checkpoint: str
    """Checkpoint UUID."""
    metadata: dict[str, Any]
    """The checkpoint's metadata (holds ``MLDM_COMMIT_KEY``)."""


class MldeClient(Protocol):
    def ensure_model(self, name: str, *, workspace: str) -> None:
        """Creates registry model ``name`` in ``workspace`` unless it exists."""

    def latest_version(self, model: str) -> ModelVersionRef | None:
        """The newest version of ``model``, or None when it has none."""

    def create_experiment(
        self, config: dict[str, Any], model_dir: Path, includes: Sequence[Path]
    ) -> int:
        """Creates and activates an experiment; returns its id."""

    def wait(self, experiment_id: int) -> str:
        """Blocks until the experiment ends; returns its final state (``COMPLETED``...)."""

    def best_checkpoint(self, experiment_id: int) -> str | None:
        """UUID of the experiment's best checkpoint by its searcher metric; None when it has
        none (its trial exited early, e.g. with too little usable data)."""

    def register_version(
        self, model: str, checkpoint: str, *, name: str, metadata: dict[str, Any]
    ) -> int:
        """Registers ``checkpoint`` as a new version of ``model``; returns its number."""

    def download_checkpoint(self, checkpoint: str, destination: Path) -> Path:
        """Downloads a checkpoint's files into ``destination``."""


class DeterminedMlde:
    """``MldeClient`` over ``determined.experimental.client.Determined``."""

    def __init__(self, master: str, user: str, password: str) -> None:
        from determined.experimental import client

        self._det = client.Determined(master=master, user=user, password=password)

    def ensure_model(self, name: str, *, workspace: str) -> None:
        from determined.common.api import errors

        try:
            self._det.get_model(name)
        except errors.NotFoundException:
            self._det.create_model(name, workspace_name=workspace)

    def latest_version(self, model: str) -> ModelVersionRef | None:
        version = self._det.get_model(model).get_version()
        if version is None or version.checkpoint is None:
            return None
        return ModelVersionRef(
            version=version.model_version,
            checkpoint=version.checkpoint.uuid,
            metadata=dict(version.checkpoint.metadata or {}),
        )

    def create_experiment(
        self, config: dict[str, Any], model_dir: Path, includes: Sequence[Path]
    ) -> int:
        experiment = self._det.create_experiment(config, model_dir, includes=list(includes))
        return int(experiment.id)

    def wait(self, experiment_id: int) -> str:
        return str(self._det.get_experiment(experiment_id).wait(interval=10).name)

    def best_checkpoint(self, experiment_id: int) -> str | None:
        experiment = self._det.get_experiment(experiment_id)
        # The SDK asserts when there is none; list first, so a missing checkpoint is an answer.
        if not experiment.list_checkpoints(max_results=1):
            return None
        return str(experiment.top_checkpoint().uuid)

    def register_version(
        self, model: str, checkpoint: str, *, name: str, metadata: dict[str, Any]
    ) -> int:
        self._det.get_checkpoint(checkpoint).add_metadata(metadata)
        version = self._det.get_model(model).register_version(checkpoint)
        version.set_name(name)
        return int(version.model_version)

    def download_checkpoint(self, checkpoint: str, destination: Path) -> Path:
        return Path(self._det.get_checkpoint(checkpoint).download(str(destination)))
