"""What every example's trial shares: the entrypoint around Determined's Trainer API, and the
download of the MLDM commit it trains on.

The train container uploads ``pdk_assets`` with the experiment code, so an example's
``train.py`` is ``run(ItsTrial)``. In the cluster MLDE runs it as the trial; outside a cluster
(``--local``, used by ``pdk example run --local``) the same code trains in MLDE's local training
mode, writing checkpoints under ``$XDG_DATA_HOME/determined``. It runs on the task image's
Python (3.10), which ``tests/test_task_images.py`` checks.
"""

from __future__ import annotations

import argparse
import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import determined as det
import torch
import yaml
from determined import pytorch

Trial = Any
"""A ``pytorch.PyTorchTrial`` with ``model`` (the module whose weights a warm start loads) and
``load_data()``, which raises ``det.InvalidHP`` when the commit holds too little usable data."""


def _warm_start(trial: Trial, checkpoint_uuid: str) -> None:
    """Incremental mode: start from the weights of the model's latest version."""
    from determined.experimental import client

    path = client.get_checkpoint(checkpoint_uuid).download()
    state = torch.load(Path(path) / "state_dict.pth", map_location="cpu", weights_only=False)
    trial.model.load_state_dict(state["models_state_dict"][0])


def train(
    make_trial: Callable[[pytorch.PyTorchTrialContext], Trial],
    config: dict[str, Any] | None,
    max_batches: int | None,
) -> None:
    info = det.get_cluster_info()
    if info is not None:
        config = info.trial._config  # the filled experiment config the train container sent
        hparams = info.trial.hparams
        latest = info.latest_checkpoint
    else:
        assert config is not None, "local training needs --config"
        hparams = config["hyperparameters"]
        latest = None
        # In the cluster MLDE seeds each trial; locally we do, so dry runs repeat exactly.
        seed = int(config.get("reproducibility", {}).get("experiment_seed", 0))
        random.seed(seed)
        torch.manual_seed(seed)
    length = max_batches or int(config["searcher"]["max_length"]["batches"])
    # TensorBoard files only mean something in the cluster, where MLDE uploads them; local
    # training would need the tensorboard package for nothing.
    with pytorch.init(
        hparams=hparams, exp_conf=config, enable_tensorboard_logging=info is not None
    ) as context:
        trial = make_trial(context)
        # Before fit: too little usable data raises det.InvalidHP, which pytorch.init turns
        # into an early exit without a checkpoint, not a failed trial.
        trial.load_data()
        warm = config["data"].get("warm_start_checkpoint")
        if warm and latest is None:
            _warm_start(trial, warm)
        trainer = pytorch.Trainer(trial, context)
        trainer.fit(
            max_length=pytorch.Batch(length),
            validation_period=pytorch.Batch(length),
            checkpoint_period=pytorch.Batch(length),
            latest_checkpoint=latest,
        )


def run(make_trial: Callable[[pytorch.PyTorchTrialContext], Trial]) -> None:
    """The command line of an example's ``train.py`` (``entrypoint: python3 train.py``)."""
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    parser = argparse.ArgumentParser(description="Train the example's model with MLDE.")
    parser.add_argument("--local", type=Path, metavar="CONFIG", help="filled experiment config")
    parser.add_argument("--max-batches", type=int, help="override searcher.max_length.batches")
    arguments = parser.parse_args()
    local_config = yaml.safe_load(arguments.local.read_text()) if arguments.local else None
    train(make_trial, local_config, arguments.max_batches)


def download_commit(pachyderm: dict[str, Any], destination: Path) -> set[str] | None:
    """Downloads the commit named by ``data.pachyderm`` into ``destination``; returns the set of
    paths added since ``previous_commit`` when that is set (incremental), else None."""
    from pachyderm_sdk import Client
    from pachyderm_sdk.api import pfs

    client = Client(
        host=pachyderm["host"],
        port=int(pachyderm["port"]),
        auth_token=pachyderm.get("token") or None,
    )
    where = f"{pachyderm['project']}/{pachyderm['repo']}"
    commit = f"{where}@{pachyderm['branch']}"
    with client.pfs.pfs_tar_file(file=pfs.File.from_uri(f"{commit}:/")) as tar:
        tar.extractall(destination, filter="data")
    previous = pachyderm.get("previous_commit")
    if not previous:
        return None
    added = set()
    for change in client.pfs.diff_file(
        new_file=pfs.File.from_uri(f"{commit}:/"),
        old_file=pfs.File.from_uri(f"{where}@{previous}:/"),
    ):
        if change.new_file.file_type == pfs.FileType.FILE:
            added.add(change.new_file.file.path.lstrip("/"))
    return added
