"""The example manifest: the dog-cat example loads, and every malformed manifest fails with a
message naming the file and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pdk_assets.manifest import EXAMPLES_DIR, ManifestError, load_examples, load_manifest

DOG_CAT = EXAMPLES_DIR / "dog-cat"


def test_dog_cat_manifest_names_the_reference_objects() -> None:
    manifest = load_manifest(DOG_CAT)
    assert manifest.classes == ["dog", "cat"]
    assert manifest.mldm.project == "pdk-dogs-and-cats"
    assert manifest.mldm.repo == "dogs-and-cats-data"
    assert manifest.mldm.train_pipeline == "dogs-and-cats-model"
    assert manifest.mldm.deploy_pipeline == "dogs-and-cats-deploy"
    assert manifest.mlde.model == "dogs-and-cats"
    assert manifest.serving.model_name == "dogs-and-cats"
    assert manifest.serving.inference_service == "dog-cat"
    assert manifest.experiment_config.is_file() and manifest.handler.is_file()
    # Loading the file or its folder is the same.
    assert load_manifest(DOG_CAT / "example.yaml") == manifest


def test_every_example_folder_loads() -> None:
    names = [manifest.name for manifest in load_examples()]
    assert "dog-cat" in names
    assert names == sorted(names)


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    folder = tmp_path / "dog-cat"
    shutil.copytree(DOG_CAT, folder)
    return folder


def _edit(folder: Path, change: dict[str, object]) -> None:
    path = folder / "example.yaml"
    data = yaml.safe_load(path.read_text())
    for dotted, value in change.items():
        *parents, key = dotted.split(".")
        target = data
        for parent in parents:
            target = target[parent]
        target[key] = value
    path.write_text(yaml.safe_dump(data))


def test_missing_manifest_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"example\.yaml: no example manifest here"):
        load_manifest(tmp_path)


def test_invalid_yaml_names_the_file(example: Path) -> None:
    (example / "example.yaml").write_text("name: [unclosed")
    with pytest.raises(ManifestError, match=rf"{example}/example\.yaml: not valid YAML"):
        load_manifest(example)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"classes": ["dog_1", "cat"]}, r"classes: .*lowercase letters and digits"),
        ({"classes": ["dog"]}, r"classes: .*at least 2"),
        ({"classes": ["dog", "dog"]}, r"classes: .*repeat"),
        ({"mldm.repo": "Dogs_Data"}, r"mldm\.repo: .*not a Kubernetes name"),
        ({"serving.min_workers": 3, "serving.max_workers": 1}, r"max_workers must be at least"),
        ({"serving.handler": "/etc/passwd"}, r"serving\.handler: .*inside the example folder"),
        ({"serving.resources": {"limits": {"cpu": "two"}}}, r"not a Kubernetes quantity"),
        ({"surprise": 1}, r"surprise: Extra inputs are not permitted"),
        ({"name": "other"}, r"name: 'other' differs from the folder name"),
        ({"serving.handler": "missing.py"}, r"serving\.handler: .*missing\.py does not exist"),
        ({"experiment.trial": "nope:Trial"}, r"experiment\.trial: .*nope\.py does not exist"),
    ],
)
def test_invalid_manifest_names_file_and_field(
    example: Path, change: dict[str, object], message: str
) -> None:
    _edit(example, change)
    with pytest.raises(ManifestError) as raised:
        load_manifest(example)
    assert str(raised.value).startswith(str(example / "example.yaml"))
    assert raised.match(message)
