"""The train container: one MLDM data commit in, one registered model version out.

``python -m pdk_assets.train --example DIR --input /pfs/<repo> --output /pfs/out`` fills the
MLDM connection, the commit and the labels into the example's experiment config, creates the
MLDE experiment (or, in incremental mode, continues from the model's latest version on the
files added since the commit that version saw), waits for it, fails unless it COMPLETED,
registers the best checkpoint as a version named after the MLDM job and writes
``model-info.yaml``.

A commit too small to train on ends cleanly (exit 0, no ``model-info.yaml``, so the deploy
pipeline has nothing to do) with a message saying what is needed: checked here by file names
(the pipeline mounts the commit with empty files), and again by the trial, which decodes the
data and, when fewer usable items remain, ends its experiment without a checkpoint
(``det.InvalidHP``) instead of failing.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pdk_assets import env
from pdk_assets.labels import scan
from pdk_assets.manifest import ExampleManifest, ManifestError, load_manifest
from pdk_assets.mlde import MLDM_COMMIT_KEY, MldeClient, ModelVersionRef
from pdk_assets.model_info import ModelInfo, write_model_info
from pdk_assets.tables import table_files

PACKAGE_DIR = Path(__file__).resolve().parent
"""Uploaded with the experiment code so the trial labels files with ``pdk_assets.labels``."""

COMPLETED = "COMPLETED"


class TrainError(RuntimeError):
    """Training did not produce a model; the message says why and what to check."""


@dataclass(frozen=True)
class MldmConnection:
    """Where MLDE trials download the commit from."""

    host: str
    port: int
    token: str = ""
    """Empty when MLDM auth is off."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> MldmConnection:
        values = env.require((env.PACHD_HOST, env.PACHD_PORT, env.PACH_TOKEN), environ)
        port = values[env.PACHD_PORT]
        if not port.isdigit():
            raise env.MissingEnvironment(
                f"{env.PACHD_PORT}={port!r} is not a port number; check the "
                f"pachd_lb_service_port key of Secret {env.PIPELINE_SECRET!r}"
            )
        return cls(values[env.PACHD_HOST], int(port), values[env.PACH_TOKEN])


@dataclass(frozen=True)
class TrainJob:
    """The MLDM job being processed."""

    job_id: str
    """``PPS_JOB_ID``: also the id of the data commit (MLDM's global ids)."""
    pipeline: str
    """``PPS_PIPELINE_NAME``."""
    input_dir: Path
    """The mounted data commit, ``/pfs/<repo>``."""
    output_dir: Path
    """``/pfs/out``."""


def check_commit(manifest: ExampleManifest, folder: Path) -> tuple[str, str | None]:
    """(summary, shortfall) of a data commit by file names only: ``shortfall`` says why it is
    too small to train on, or is None. Uses the rule the trial uses (``pdk_assets.labels``,
    ``pdk_assets.tables``), so the two disagree only on files that fail to decode."""
    if manifest.data.kind == "table":
        files = table_files(folder)
        shortfall = None
        if not files.files:
            shortfall = (
                "needs at least one CSV (.csv, .csv.gz) or Parquet (.parquet) file "
                f"({files.summary()})"
            )
        return files.summary(), shortfall
    found = scan(folder, manifest.classes, decode=False)
    return (
        found.summary(manifest.classes),
        found.shortfall(manifest.classes, manifest.data.min_per_class),
    )


def usable_minimum(manifest: ExampleManifest) -> str:
    """What the trial needs after decoding, for messages."""
    if manifest.data.kind == "table":
        return f"at least {manifest.data.min_rows} usable rows"
    return f"at least {manifest.data.min_per_class} decodable images of every class"


def load_experiment_config(manifest: ExampleManifest) -> dict[str, Any]:
    path = manifest.experiment_config
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ManifestError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(config, dict):
        raise ManifestError(f"{path}: an experiment config must be a mapping")
    return config


def fill_config(
    base: Mapping[str, Any],
    manifest: ExampleManifest,
    *,
    job_id: str,
    mldm: MldmConnection,
    previous: ModelVersionRef | None = None,
    local_dir: Path | None = None,
) -> dict[str, Any]:
    """The experiment config for one commit: ``data.labels``, ``data.pachyderm.*`` (branch = the
    job id, which is the commit id), and, from ``previous``, the warm-start checkpoint and the
    commit to diff against. ``local_dir`` (dry run) replaces the MLDM download."""
    config = copy.deepcopy(dict(base))
    config["name"] = f"{manifest.mlde.model}-{job_id}"
    config["workspace"] = manifest.mlde.workspace
    config["project"] = manifest.mlde.project
    data = config.setdefault("data", {})
    data["labels"] = list(manifest.classes)
    data["min_per_class"] = manifest.data.min_per_class
    data["min_rows"] = manifest.data.min_rows
    data["pachyderm"] = {
        **data.get("pachyderm", {}),
        "host": mldm.host,
        "port": mldm.port,
        "project": manifest.mldm.project,
        "repo": manifest.mldm.repo,
        "branch": job_id,
        "token": mldm.token,
        "previous_commit": str(previous.metadata.get(MLDM_COMMIT_KEY, "")) if previous else "",
    }
    data["warm_start_checkpoint"] = previous.checkpoint if previous else ""
    data["local_dir"] = str(local_dir) if local_dir else ""
    return config


def run_train(
    manifest: ExampleManifest,
    mlde: MldeClient,
    job: TrainJob,
    mldm: MldmConnection,
    *,
    say: Callable[[str], None] = print,
    local_dir: Path | None = None,
) -> ModelInfo | None:
    """Trains on ``job``'s commit; returns the registered model, or None for a commit too
    small to train on. Raises ``TrainError`` when the experiment does not complete."""
    summary, shortfall = check_commit(manifest, job.input_dir)
    if shortfall is not None:
        hint = (
            f" Commit files named <class>.<anything> or in folders named after a class, "
            f"with class one of {manifest.classes}."
            if manifest.data.kind == "images"
            else ""
        )
        say(
            f"data commit {job.job_id} of repo {manifest.mldm.repo!r}: training {shortfall}; "
            f"nothing to train, so no model is deployed.{hint}"
        )
        return None
    say(f"data commit {job.job_id}: {summary} (names only)")

    model = manifest.mlde.model
    mlde.ensure_model(model, workspace=manifest.mlde.workspace)
    previous = mlde.latest_version(model) if manifest.experiment.incremental else None
    if previous is not None:
        say(f"incremental: continuing from {model} version {previous.version}")
    config = fill_config(
        load_experiment_config(manifest),
        manifest,
        job_id=job.job_id,
        mldm=mldm,
        previous=previous,
        local_dir=local_dir,
    )
    experiment = mlde.create_experiment(config, manifest.experiment_dir, [PACKAGE_DIR])
    say(f"MLDE experiment {experiment} created; waiting for it to finish")
    state = mlde.wait(experiment)
    if state != COMPLETED:
        raise TrainError(
            f"MLDE experiment {experiment} ended {state}, not {COMPLETED}; no model was "
            "registered. Read the trial logs in the MLDE web UI (or `det trial logs`)."
        )
    checkpoint = mlde.best_checkpoint(experiment)
    if checkpoint is None:
        say(
            f"MLDE experiment {experiment} ended without a checkpoint: its trial found too "
            f"little usable data in commit {job.job_id} (training needs "
            f"{usable_minimum(manifest)}; the trial log says what it found and skipped). "
            "No model is registered or deployed."
        )
        return None
    version = mlde.register_version(
        model,
        checkpoint,
        name=job.job_id,
        metadata={MLDM_COMMIT_KEY: job.job_id, "pdk_pipeline": job.pipeline},
    )
    info = ModelInfo(
        name=model,
        version=version,
        checkpoint=checkpoint,
        pipeline=job.pipeline,
        repo=manifest.mldm.repo,
        job_id=job.job_id,
        experiment_id=experiment,
        example=manifest.name,
    )
    path = write_model_info(info, job.output_dir / env.MODEL_INFO_FILE)
    say(f"registered {model} version {version} (checkpoint {checkpoint}); wrote {path}")
    return info


def checkout_example(git: env.GitSource, workdir: Path) -> Path:
    """Clones ``git`` into ``workdir`` (the guides' mode) and returns the example folder."""
    target = workdir / "repo"
    for command in (
        ["git", "clone", "--quiet", git.url, str(target)],
        ["git", "-C", str(target), "checkout", "--quiet", git.ref],
    ):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise TrainError(
                f"`{' '.join(command)}` failed: {result.stderr.strip()}; check the URL, the "
                "ref and that the repository is reachable from the pipeline"
            )
    return target / git.subdir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pdk_assets.train", description=__doc__)
    parser.add_argument("--example", type=Path, default=Path(env.EXAMPLE_PATH))
    parser.add_argument("--input", type=Path, required=True, help="the data commit (/pfs/<repo>)")
    parser.add_argument("--output", type=Path, default=Path(env.OUTPUT_DIR))
    parser.add_argument("--git-url", help="take the example from git instead of --example")
    parser.add_argument("--git-ref", default="main")
    parser.add_argument("--git-subdir", default=".")
    arguments = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="pdk-train-") as workdir:
            folder = arguments.example
            if arguments.git_url:
                source = env.GitSource(arguments.git_url, arguments.git_ref, arguments.git_subdir)
                folder = checkout_example(source, Path(workdir))
            manifest = load_manifest(folder)
            values = env.require(
                (env.DET_MASTER, env.DET_USER, env.DET_PASSWORD, env.JOB_ID, env.PIPELINE_NAME)
            )
            from pdk_assets.mlde import DeterminedMlde

            mlde = DeterminedMlde(
                values[env.DET_MASTER], values[env.DET_USER], values[env.DET_PASSWORD]
            )
            job = TrainJob(
                values[env.JOB_ID], values[env.PIPELINE_NAME], arguments.input, arguments.output
            )
            run_train(manifest, mlde, job, MldmConnection.from_env(os.environ))
    except (ManifestError, env.MissingEnvironment, TrainError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
