"""The experiment's entrypoint (``entrypoint: python3 train.py``), with Determined's Trainer API.

In the cluster MLDE runs it as the trial; outside a cluster (``--local``, used by
``pdk example run --local``) the same code trains in MLDE's local training mode, writing
checkpoints under ``$XDG_DATA_HOME/determined``.
"""

from __future__ import annotations

import argparse
import logging
import random
from pathlib import Path
from typing import Any

import determined as det
import torch
import yaml
from determined import pytorch
from model_def import TaxiTrial


def _warm_start(trial: TaxiTrial, checkpoint_uuid: str) -> None:
    """Incremental mode: start from the weights of the model's latest version."""
    from determined.experimental import client

    path = client.get_checkpoint(checkpoint_uuid).download()
    state = torch.load(Path(path) / "state_dict.pth", map_location="cpu", weights_only=False)
    trial.model.load_state_dict(state["models_state_dict"][0])


def main(config: dict[str, Any] | None, max_batches: int | None) -> None:
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
        trial = TaxiTrial(context)
        # Before fit: too few usable trips raises NotEnoughTrips (det.InvalidHP), which
        # pytorch.init turns into an early exit without a checkpoint, not a failed trial.
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


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--local", type=Path, metavar="CONFIG", help="filled experiment config")
    parser.add_argument("--max-batches", type=int, help="override searcher.max_length.batches")
    arguments = parser.parse_args()
    local_config = yaml.safe_load(arguments.local.read_text()) if arguments.local else None
    main(local_config, arguments.max_batches)
