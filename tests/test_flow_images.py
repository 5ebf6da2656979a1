"""The flow's images: content tags from build inputs, and the Image resources under mocks."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.flow.images import (
    KINDS,
    REPOSITORIES,
    FlowImages,
    FlowImagesArgs,
    ImageKind,
    RegistryAuth,
    build_inputs,
    content_tag,
)
from infra.plan.engine import SECRET, use_mock_engine

REGISTRY = "registry.example.com:5000/pdk"

TREE = {
    "images/train/Dockerfile": "FROM python:3.11-slim\nARG EXAMPLE\nCOPY pdk_assets /pdk\n",
    "images/train/requirements.txt": "determined==0.38.1\n",
    "images/deploy/Dockerfile": "FROM python:3.11-slim\nARG EXAMPLE\n",
    "pdk_assets/__init__.py": "",
    "pdk_assets/train.py": "print('train')\n",
    "examples/dog-cat/example.yaml": "name: dog-cat\n",
    "examples/dog-cat/experiment/model.py": "LR = 0.005\n",
    "examples/other/example.yaml": "name: other\n",
    "pyproject.toml": "[project]\nname = 'x'\n",
    "README.md": "docs\n",
    "infra/program.py": "",
}


def _tree(root: Path) -> Path:
    for relative, text in TREE.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return _tree(tmp_path / "repo")


def _tag(root: Path, kind: ImageKind = "train") -> str:
    return content_tag(root, build_inputs(kind, "dog-cat"))


@pytest.mark.parametrize(
    "changed",
    [
        "examples/dog-cat/experiment/model.py",
        "pdk_assets/train.py",
        "images/train/Dockerfile",
        "images/train/requirements.txt",
        "pyproject.toml",
    ],
)
def test_tag_changes_with_any_build_input(tree: Path, changed: str) -> None:
    before = _tag(tree)
    (tree / changed).write_text((tree / changed).read_text() + "# changed\n")
    assert _tag(tree) != before


@pytest.mark.parametrize(
    "changed",
    [
        "README.md",
        "infra/program.py",
        "examples/other/example.yaml",
        "images/deploy/Dockerfile",
        "pdk_assets/__pycache__/train.cpython-311.pyc",
        "examples/dog-cat/experiment/model.pyc",
    ],
)
def test_tag_ignores_files_the_image_does_not_copy(tree: Path, changed: str) -> None:
    before = _tag(tree)
    path = tree / changed
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("unrelated\n")
    assert _tag(tree) == before


def test_tag_sees_added_and_renamed_files(tree: Path) -> None:
    before = _tag(tree)
    (tree / "pdk_assets/new.py").write_text("")
    added = _tag(tree)
    assert added != before
    (tree / "pdk_assets/new.py").rename(tree / "pdk_assets/renamed.py")
    assert _tag(tree) not in (before, added)


def test_tag_is_the_same_for_the_same_content_anywhere(tree: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(tree, copy)
    assert _tag(copy) == _tag(tree)
    assert len(_tag(tree)) == 16


def test_salt_is_part_of_the_tag(tree: Path) -> None:
    inputs = build_inputs("train", "dog-cat")
    assert content_tag(tree, inputs, {"EXAMPLE": "a"}) != content_tag(
        tree, inputs, {"EXAMPLE": "b"}
    )


def test_missing_input_is_named(tree: Path) -> None:
    with pytest.raises(FileNotFoundError, match="examples/nope"):
        content_tag(tree, build_inputs("train", "nope"))


@pytest.mark.parametrize(
    ("overrides", "remove", "message"),
    [
        ({"example": "Dog Cat"}, None, "is not an example folder name"),
        ({"example": "missing"}, None, "examples/missing does not exist"),
        ({}, "images/deploy/Dockerfile", "deploy image:"),
        ({"registry": ""}, None, "registry: empty"),
        ({"platforms": ["linux/amd65"]}, None, "'linux/amd65' is not one of Docker's platforms"),
    ],
)
def test_bad_args_are_refused(
    tree: Path, overrides: dict[str, Any], remove: str | None, message: str
) -> None:
    if remove:
        (tree / remove).unlink()
    with pytest.raises(ValueError, match="flow images") as raised:
        FlowImagesArgs(**{"example": "dog-cat", "registry": REGISTRY, "root": tree, **overrides})
    assert message in str(raised.value)


def _registered(
    build: Callable[[], dict[str, pulumi.Output[Any]]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    monitor = use_mock_engine("flow-test")
    resolved: dict[str, Any] = {}

    async def program() -> None:
        outputs = build()
        await pulumi.runtime.stack.wait_for_rpcs()
        for key, output in outputs.items():
            resolved[key] = await output.future()

    _sync_await(run_pulumi_func(program))
    return {record.name: record for record in monitor.recorded.values()}, resolved


def test_component_declares_two_pushed_images_tagged_by_content(tree: Path) -> None:
    args = FlowImagesArgs(
        example="dog-cat",
        registry=REGISTRY,
        root=tree,
        auth=RegistryAuth(username="AWS", password="s3cret"),
    )
    holder: dict[str, FlowImages] = {}

    def build() -> dict[str, pulumi.Output[Any]]:
        images = holder["images"] = FlowImages("flow-images", args)
        return {"train": images.train_image, "deploy": images.deploy_image}

    recorded, outputs = _registered(build)
    images = holder["images"]
    assert recorded["flow-images"].type == "pdk:flow:FlowImages"
    built = {
        name: record
        for name, record in recorded.items()
        if record.type == "docker-build:index:Image"
    }
    assert sorted(built) == ["flow-images-deploy", "flow-images-train"]
    for kind in KINDS:
        record = built[f"flow-images-{kind}"]
        inputs = record.inputs
        tag = content_tag(
            tree, build_inputs(kind, "dog-cat"), {"EXAMPLE": "dog-cat", "platforms": "linux/amd64"}
        )
        assert getattr(images, f"{kind}_tag") == f"dog-cat-{tag}"
        assert record.parent == "flow-images"
        assert inputs["push"] is True
        assert inputs["buildOnPreview"] is False
        assert inputs["buildArgs"] == {"EXAMPLE": "dog-cat"}
        assert inputs["platforms"] == ["linux/amd64"]
        assert inputs["context"] == {"location": str(tree)}
        assert inputs["dockerfile"]["location"] == f"{tree}/images/{kind}/Dockerfile"
        ref = f"{REGISTRY}/{REPOSITORIES[kind]}:dog-cat-{tag}"
        assert inputs["tags"] == [ref]
        assert inputs["registries"] == [
            {"address": "registry.example.com:5000", "username": "AWS", "password": SECRET}
        ]
        # The mocks push nothing, so there is no digest: the tag stands in for it.
        assert outputs[kind] == ref


def test_training_code_change_moves_only_the_train_tag(tree: Path) -> None:
    before = (_tag(tree, "train"), _tag(tree, "deploy"))
    (tree / "images/train/requirements.txt").write_text("determined==0.38.2\n")
    after = (_tag(tree, "train"), _tag(tree, "deploy"))
    assert after[0] != before[0] and after[1] == before[1]


def test_context_inside_the_program_folder_is_relative(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative to the project's folder (where `pulumi up` runs the program), whichever folder
    `pdk` runs from: run from a subfolder, a path relative to it read as a change."""
    from infra.plan.stackfiles import REPO_ROOT

    monkeypatch.chdir(REPO_ROOT / "infra")
    args = FlowImagesArgs(example="dog-cat", registry=REGISTRY, root=REPO_ROOT)

    def build() -> dict[str, pulumi.Output[Any]]:
        FlowImages("flow-images", args)
        return {}

    recorded, _ = _registered(build)
    train = recorded["flow-images-train"].inputs
    assert train["context"] == {"location": "."}
    assert train["dockerfile"] == {"location": "images/train/Dockerfile"}
    assert "registries" not in train


@pytest.mark.parametrize("kind", ["train", "deploy"])
def test_images_run_as_a_numeric_non_root_user(kind: str) -> None:
    """The last USER of each Dockerfile is numeric and not 0, so a pod with runAsNonRoot
    starts it; nothing after it switches back to root."""
    from infra.plan.stackfiles import REPO_ROOT

    lines = (REPO_ROOT / "images" / kind / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users, f"images/{kind}/Dockerfile sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or int(gid) != 0)
    last_user = max(i for i, line in enumerate(lines) if line.startswith("USER "))
    assert not any(line.startswith("RUN ") for line in lines[last_user:])


def test_each_example_has_its_own_tags_and_only_its_changes_move_them(tmp_path: Path) -> None:
    """On this repository's real build inputs: every example gets tags of its own, and a change
    inside one example moves that example's tags only."""
    from infra.plan.stackfiles import REPO_ROOT
    from pdk_assets.manifest import load_examples

    names = [manifest.name for manifest in load_examples()]
    assert len(names) >= 2
    for folder in ("images", "pdk_assets", "examples"):
        shutil.copytree(
            REPO_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")

    def tags() -> dict[tuple[str, str], str]:
        return {
            (name, kind): content_tag(tmp_path, build_inputs(kind, name), {"EXAMPLE": name})
            for name in names
            for kind in KINDS
        }

    before = tags()
    assert len(set(before.values())) == len(before)
    changed = tmp_path / "examples" / names[-1] / "example.yaml"
    changed.write_text(changed.read_text() + "\n# a change\n")
    after = tags()
    assert {key for key in before if before[key] != after[key]} == {
        (names[-1], kind) for kind in KINDS
    }
