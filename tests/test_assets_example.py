"""The dog-cat example's own code: transforms (not swapped), datasets, the configurable
network, the experiment config and the TorchServe handler."""

from __future__ import annotations

import base64
import importlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch
import yaml
from PIL import Image

from pdk_assets.manifest import EXAMPLES_DIR
from pdk_assets.synthetic import class_image, write_dataset

EXAMPLE = EXAMPLES_DIR / "dog-cat"
EXPERIMENT = EXAMPLE / "experiment"


@pytest.fixture(scope="module")
def modules() -> Iterator[dict[str, ModuleType]]:
    """The experiment's and handler's modules, imported as MLDE and TorchServe import them
    (from their own folder), and removed afterwards so other tests see no `data` module."""
    names = ("transforms", "data", "model_def", "handler_base", "handler")
    # handler_base is packed into the .mar from pdk_assets/.
    sys.path[:0] = [str(EXPERIMENT), str(EXAMPLE), str(EXAMPLES_DIR.parent / "pdk_assets")]
    try:
        yield {name: importlib.import_module(name) for name in names}
    finally:
        del sys.path[:3]
        for name in names:
            sys.modules.pop(name, None)


def _image(index: int = 0) -> Image.Image:
    return Image.open(io.BytesIO(class_image(index, size=150)))


def test_validation_transform_is_deterministic_and_training_augments(
    modules: dict[str, ModuleType],
) -> None:
    transforms = modules["transforms"]
    image = _image()
    evaluated = transforms.eval_transform(image)
    assert evaluated.shape == (3, transforms.IMAGE_SIZE, transforms.IMAGE_SIZE)
    assert torch.equal(evaluated, transforms.eval_transform(image))
    trained = [transforms.train_transform(image) for _ in range(4)]
    assert all(t.shape == evaluated.shape for t in trained)
    assert any(not torch.equal(trained[0], other) for other in trained[1:])


def test_training_set_augments_and_validation_set_does_not(
    modules: dict[str, ModuleType], tmp_path: Path
) -> None:
    # FIX: the guides applied the validation transforms to training and vice versa.
    data, transforms = modules["data"], modules["transforms"]
    write_dataset(tmp_path, ["dog", "cat"], per_class=5)
    train, validation, found = data.build_datasets(tmp_path, ["dog", "cat"], 0.2)
    assert train.transform is transforms.train_transform
    assert validation.transform is transforms.eval_transform
    assert len(train) + len(validation) == len(found.items) == 10
    assert sorted(label for _, label in validation.items) == [0, 1]
    assert torch.equal(validation[0][0], validation[0][0])
    assert not set(train.items) & set(validation.items)


def test_too_few_decodable_images_end_the_trial_early_not_with_a_crash(
    modules: dict[str, ModuleType], tmp_path: Path
) -> None:
    """FIX: a commit whose labelled files are unreadable passed the names-only check and then
    failed the trial with ValueError. Now the trial raises ``det.InvalidHP``, which Determined
    turns into an early exit without a checkpoint, and says how many images are needed."""
    import determined as det

    (tmp_path / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "dog.1.jpg").write_text("not an image")
    (tmp_path / "cat.1.jpg").write_text("not an image")
    with pytest.raises(det.InvalidHP) as raised:
        modules["data"].build_datasets(tmp_path, ["dog", "cat"], 0.2)
    assert "needs at least 2 usable images of every class" in str(raised.value)


@pytest.mark.parametrize("depth", [10, 18, 34])
def test_network_depth_is_configurable_and_scriptable(
    modules: dict[str, ModuleType], depth: int
) -> None:
    network = modules["model_def"].ResNet(2, depth=depth, width=8).eval()
    blocks = sum(modules["model_def"].BLOCKS_PER_STAGE[depth])
    assert len(network.stages) == blocks
    batch = torch.randn(2, 3, 64, 64)
    scripted = torch.jit.script(network)
    assert torch.allclose(scripted(batch), network(batch))
    assert network(batch).shape == (2, 2)


def test_unknown_depth_is_refused(modules: dict[str, ModuleType]) -> None:
    with pytest.raises(ValueError, match="depth 50"):
        modules["model_def"].ResNet(2, depth=50)


def test_experiment_config_matches_the_reference() -> None:
    config = yaml.safe_load((EXPERIMENT / "const.yaml").read_text())
    hparams = config["hyperparameters"]
    assert (hparams["learning_rate"], hparams["momentum"], hparams["nesterov"]) == (
        0.005,
        0.9,
        True,
    )
    assert hparams["weight_decay"] == 1e-4 and hparams["global_batch_size"] == 32
    assert config["searcher"]["max_length"] == {"batches": 100}
    assert config["searcher"]["metric"] == "accuracy"
    assert config["searcher"]["smaller_is_better"] is False


def test_handler_decodes_the_kserve_instances(modules: dict[str, ModuleType]) -> None:
    handler = modules["handler"].DogCatHandler()
    instances = [{"data": base64.b64encode(class_image(i)).decode()} for i in (0, 1)]
    batch = handler.preprocess(instances)
    assert batch.shape == (2, 3, 224, 224)
    assert handler.postprocess(torch.tensor([[2.0, 1.0], [0.0, 3.0]])) == [0, 1]


@pytest.mark.parametrize(
    "instance",
    [
        {"data": "not base64!"},
        {"data": base64.b64encode(b"plain text, not an image").decode()},
        {"data": base64.b64encode(class_image(0)[:200]).decode()},
        {"wrong": "key"},
    ],
)
def test_undecodable_image_is_a_400_with_a_message(
    modules: dict[str, ModuleType], instance: dict[str, str]
) -> None:
    from ts.utils.util import PredictionException

    handler = modules["handler"].DogCatHandler()
    good = {"data": base64.b64encode(class_image(0)).decode()}
    with pytest.raises(PredictionException) as raised:
        handler.preprocess([good, instance])
    assert raised.value.error_code == 400
    assert "instance 1 is not a decodable image" in raised.value.message
