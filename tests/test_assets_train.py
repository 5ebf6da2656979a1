"""The train container's logic with MLDE faked at its client boundary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pdk_assets import env, train
from pdk_assets.manifest import EXAMPLES_DIR, ExampleManifest, load_manifest
from pdk_assets.mlde import MLDM_COMMIT_KEY, ModelVersionRef
from pdk_assets.synthetic import write_dataset
from pdk_assets.train import MldmConnection, TrainError, TrainJob, run_train

MANIFEST = load_manifest(EXAMPLES_DIR / "dog-cat")
JOB = "0123456789abcdef0123456789abcdef"
MLDM = MldmConnection("pachd.default.svc", 30650, "secret-token")


class FakeMlde:
    """Records every call; answers like a cluster where training completes."""

    def __init__(
        self,
        state: str = "COMPLETED",
        latest: ModelVersionRef | None = None,
        checkpoint: str | None = "ckpt-uuid",
    ) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.state = state
        self.latest = latest
        self.checkpoint = checkpoint

    def ensure_model(self, name: str, *, workspace: str) -> None:
        self.calls.append(("ensure_model", (name, workspace)))

    def latest_version(self, model: str) -> ModelVersionRef | None:
        self.calls.append(("latest_version", model))
        return self.latest

    def create_experiment(self, config: dict[str, Any], model_dir: Path, includes: Any) -> int:
        self.calls.append(("create_experiment", (config, model_dir, list(includes))))
        return 42

    def wait(self, experiment_id: int) -> str:
        self.calls.append(("wait", experiment_id))
        return self.state

    def best_checkpoint(self, experiment_id: int) -> str | None:
        self.calls.append(("best_checkpoint", experiment_id))
        return self.checkpoint

    def register_version(
        self, model: str, checkpoint: str, *, name: str, metadata: dict[str, Any]
    ) -> int:
        self.calls.append(("register_version", (model, checkpoint, name, metadata)))
        return 7

    def download_checkpoint(self, checkpoint: str, destination: Path) -> Path:
        raise AssertionError("training never downloads checkpoints")

    def call(self, name: str) -> Any:
        found = [args for called, args in self.calls if called == name]
        assert len(found) == 1, f"{name} called {len(found)} times"
        return found[0]


def _job(tmp_path: Path, data: Path) -> TrainJob:
    return TrainJob(JOB, "dogs-and-cats-model", data, tmp_path / "out")


def test_train_fills_the_config_and_registers_the_best_checkpoint(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "commit", MANIFEST.classes, per_class=2)
    mlde = FakeMlde()
    said: list[str] = []
    info = run_train(MANIFEST, mlde, _job(tmp_path, data), MLDM, say=said.append)

    assert mlde.call("ensure_model") == ("dogs-and-cats", "PDK Demos")
    config, model_dir, includes = mlde.call("create_experiment")
    assert model_dir == MANIFEST.experiment_dir
    assert includes == [train.PACKAGE_DIR]
    assert config["data"]["labels"] == ["dog", "cat"]
    assert config["data"]["pachyderm"] == {
        "host": "pachd.default.svc",
        "port": 30650,
        "project": "pdk-dogs-and-cats",
        "repo": "dogs-and-cats-data",
        "branch": JOB,
        "token": "secret-token",
        "previous_commit": "",
    }
    assert config["data"]["warm_start_checkpoint"] == ""
    assert (config["workspace"], config["project"]) == ("PDK Demos", "pdk-dogs-and-cats")
    assert config["hyperparameters"]["learning_rate"] == 0.005  # the rest is const.yaml's
    assert mlde.call("wait") == 42 and mlde.call("best_checkpoint") == 42
    assert mlde.call("register_version") == (
        "dogs-and-cats",
        "ckpt-uuid",
        JOB,
        {MLDM_COMMIT_KEY: JOB, "pdk_pipeline": "dogs-and-cats-model"},
    )
    assert "latest_version" not in [name for name, _ in mlde.calls]  # not incremental

    written = yaml.safe_load((tmp_path / "out" / env.MODEL_INFO_FILE).read_text())
    assert written == {
        "name": "dogs-and-cats",
        "version": 7,
        "checkpoint": "ckpt-uuid",
        "pipeline": "dogs-and-cats-model",
        "repo": "dogs-and-cats-data",
        "job_id": JOB,
        "experiment_id": 42,
        "example": "dog-cat",
    }
    assert info is not None and info.version == 7
    assert any("registered dogs-and-cats version 7" in line for line in said)


def _incremental(manifest: ExampleManifest) -> ExampleManifest:
    return manifest.model_copy(
        update={"experiment": manifest.experiment.model_copy(update={"incremental": True})}
    )


def test_incremental_continues_from_the_latest_version(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "commit", MANIFEST.classes, per_class=2)
    previous = ModelVersionRef(3, "old-ckpt", {MLDM_COMMIT_KEY: "previous-commit-id"})
    mlde = FakeMlde(latest=previous)
    run_train(_incremental(MANIFEST), mlde, _job(tmp_path, data), MLDM, say=lambda _: None)
    assert mlde.call("latest_version") == "dogs-and-cats"
    config = mlde.call("create_experiment")[0]
    assert config["data"]["warm_start_checkpoint"] == "old-ckpt"
    assert config["data"]["pachyderm"]["previous_commit"] == "previous-commit-id"


def test_incremental_without_a_version_trains_from_scratch(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "commit", MANIFEST.classes, per_class=2)
    mlde = FakeMlde(latest=None)
    run_train(_incremental(MANIFEST), mlde, _job(tmp_path, data), MLDM, say=lambda _: None)
    config = mlde.call("create_experiment")[0]
    assert config["data"]["warm_start_checkpoint"] == ""
    assert config["data"]["pachyderm"]["previous_commit"] == ""


def test_empty_commit_ends_cleanly_without_model_info(tmp_path: Path) -> None:
    commit = tmp_path / "commit"
    commit.mkdir()
    (commit / ".DS_Store").write_bytes(b"junk")
    (commit / "notes.txt").write_text("no images here")
    mlde = FakeMlde()
    said: list[str] = []
    assert run_train(MANIFEST, mlde, _job(tmp_path, commit), MLDM, say=said.append) is None
    assert mlde.calls == []
    assert not (tmp_path / "out" / env.MODEL_INFO_FILE).exists()
    assert "needs at least 2 usable images of every class" in said[0]
    assert "no model is deployed" in said[0]


def test_too_few_images_per_class_ends_cleanly_saying_how_many(tmp_path: Path) -> None:
    # FIX: one image per class failed in Determined with "validation_loader is empty".
    commit = write_dataset(tmp_path / "commit", MANIFEST.classes, per_class=1)
    mlde = FakeMlde()
    said: list[str] = []
    assert run_train(MANIFEST, mlde, _job(tmp_path, commit), MLDM, say=said.append) is None
    assert mlde.calls == []
    assert "needs at least 2 usable images of every class" in said[0]
    # By names only, the truncated dog.corrupt.jpg still counts: 2 dogs, 1 cat.
    assert "found 1 cat (3 images (2 dog, 1 cat)" in said[0]


def test_an_experiment_without_a_checkpoint_ends_cleanly(tmp_path: Path) -> None:
    """The trial found too little decodable data (``det.InvalidHP``): MLDE completes the
    experiment without a checkpoint; the job ends cleanly, registering nothing."""
    data = write_dataset(tmp_path / "commit", MANIFEST.classes, per_class=2)
    mlde = FakeMlde(checkpoint=None)
    said: list[str] = []
    assert run_train(MANIFEST, mlde, _job(tmp_path, data), MLDM, say=said.append) is None
    assert [name for name, _ in mlde.calls][-1] == "best_checkpoint"
    assert not (tmp_path / "out" / env.MODEL_INFO_FILE).exists()
    assert "needs at least 2 decodable images of every class" in said[-1]


@pytest.mark.parametrize("state", ["ERROR", "CANCELED"])
def test_an_experiment_that_does_not_complete_fails_the_job(tmp_path: Path, state: str) -> None:
    data = write_dataset(tmp_path / "commit", MANIFEST.classes, per_class=2)
    mlde = FakeMlde(state=state)
    with pytest.raises(TrainError, match=f"experiment 42 ended {state}, not COMPLETED"):
        run_train(MANIFEST, mlde, _job(tmp_path, data), MLDM, say=lambda _: None)
    assert "register_version" not in [name for name, _ in mlde.calls]
    assert not (tmp_path / "out" / env.MODEL_INFO_FILE).exists()


def test_main_reports_missing_environment_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (env.DET_MASTER, env.DET_USER, env.DET_PASSWORD, env.JOB_ID):
        monkeypatch.delenv(name, raising=False)
    code = train.main(["--example", str(MANIFEST.folder), "--input", str(tmp_path)])
    assert code == 1
    assert "DET_MASTER, DET_USER, DET_PASSWORD, PPS_JOB_ID" in capsys.readouterr().err


def test_main_reports_a_missing_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train.main(["--example", str(tmp_path), "--input", str(tmp_path)]) == 1
    assert "no example manifest here" in capsys.readouterr().err
