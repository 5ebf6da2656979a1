"""The labelling rule and the data scan: file names win, class folders label the rest, hidden
files and folders and junk are skipped and counted, and the names-only check (the train
container, on MLDM's empty-file mount) agrees with the decoding one (the trial)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pdk_assets.labels import (
    MAX_PIXELS,
    SKIP_HIDDEN,
    SKIP_NO_LABEL,
    SKIP_UNREADABLE,
    is_readable_image,
    label_for,
    scan,
)
from pdk_assets.synthetic import class_image, write_dataset

CLASSES = ["dog", "cat"]


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("dog.123.jpg", 0),
        ("cat.7.jpg", 1),
        ("Cat_7.PNG", 1),
        ("DOG-a.jpeg", 0),
        ("dogs/cat.1.jpg", 1),  # FIX: the guides labelled by "dog" anywhere in the path
        ("cats/dog.1.jpg", 0),
        ("hotdog.1.jpg", None),
        ("doggy.jpg", None),
        ("catalogue.jpg", None),
        ("dog", 0),
        (".dog.jpg", None),
        ("1.jpg", None),
        # Class-folder layouts: the nearest folder named after a class, singular or plural.
        ("dogs/1.jpg", 0),
        ("cats/2.jpg", 1),
        ("train/Cat/3.png", 1),
        ("dogs/cats/4.jpg", 1),
        ("cats/holiday/5.jpg", 1),
        ("hotdogs/6.jpg", None),
        ("dog-photos/7.jpg", None),
        # Hidden folders anywhere on the path: FIX, they were trained on.
        (".ipynb_checkpoints/dog.12-checkpoint.jpg", None),
        ("dogs/.cache/1.jpg", None),
    ],
)
def test_label_comes_from_the_file_names_leading_token(name: str, label: int | None) -> None:
    assert label_for(name, CLASSES) == label


def test_folder_names_do_not_mislabel(tmp_path: Path) -> None:
    (tmp_path / "dogs").mkdir()
    (tmp_path / "dogs" / "cat.1.jpg").write_bytes(class_image(1))
    (tmp_path / "cat-photos").mkdir()
    (tmp_path / "cat-photos" / "dog.1.jpg").write_bytes(class_image(0))
    found = scan(tmp_path, CLASSES)
    labels = {path.relative_to(tmp_path).as_posix(): label for path, label in found.items}
    assert labels == {"dogs/cat.1.jpg": 1, "cat-photos/dog.1.jpg": 0}


def test_junk_files_are_skipped_and_counted(tmp_path: Path) -> None:
    # FIX: .DS_Store and non-image files crashed the guides' pipeline.
    good = class_image(0)
    (tmp_path / "dog.1.jpg").write_bytes(good)
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "dog.notes.txt").write_text("not an image")
    (tmp_path / "dog.2.jpg").write_bytes(good[: len(good) // 2])  # truncated JPEG
    (tmp_path / "readme.md").write_text("# data")
    found = scan(tmp_path, CLASSES)
    assert [path.name for path, _ in found.items] == ["dog.1.jpg"]
    assert found.skipped == {SKIP_HIDDEN: 1, SKIP_UNREADABLE: 2, SKIP_NO_LABEL: 1}
    assert "skipped 4" in found.summary(CLASSES)
    # Names only (MLDM mounts with empty files): the text file passes until decoded.
    assert len(scan(tmp_path, CLASSES, decode=False).items) == 3


def test_only_restricts_to_the_given_paths(tmp_path: Path) -> None:
    write_dataset(tmp_path, CLASSES, per_class=2)
    found = scan(tmp_path, CLASSES, only={"cats/dog.1.jpg"})
    assert [(p.relative_to(tmp_path).as_posix(), label) for p, label in found.items] == [
        ("cats/dog.1.jpg", 0)
    ]


def test_generated_dataset_hides_images_in_misleading_folders(tmp_path: Path) -> None:
    write_dataset(tmp_path, CLASSES, per_class=3)
    found = scan(tmp_path, CLASSES)
    assert sorted(label for _, label in found.items) == [0, 0, 0, 1, 1, 1]
    assert all(path.parent.name == "cats" for path, label in found.items if label == 0)
    assert found.skipped == {SKIP_HIDDEN: 1, SKIP_UNREADABLE: 1}


def test_class_folder_layouts_are_labelled(tmp_path: Path) -> None:
    # FIX: `dogs/1.jpg`, `cats/2.jpg` (many public image datasets) were dropped entirely.
    for folder, index in (("dogs", 0), ("cats", 1)):
        (tmp_path / "train" / folder).mkdir(parents=True)
        for number in range(2):
            (tmp_path / "train" / folder / f"{number}.jpg").write_bytes(class_image(index))
    found = scan(tmp_path, CLASSES)
    assert found.per_class(CLASSES) == {"dog": 2, "cat": 2}
    assert found.shortfall(CLASSES) is None


def test_hidden_folders_are_skipped(tmp_path: Path) -> None:
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "dog.12-checkpoint.jpg").write_bytes(class_image(0))
    (tmp_path / "dog.12.jpg").write_bytes(class_image(0))
    found = scan(tmp_path, CLASSES)
    assert [path.name for path, _ in found.items] == ["dog.12.jpg"]
    assert found.skipped == {SKIP_HIDDEN: 1}


def test_names_only_and_decoded_scans_agree_but_for_undecodable_files(tmp_path: Path) -> None:
    """The train container sees empty files (``empty_files``) and the trial the real ones: the
    same rule, so they differ exactly by the files that do not decode."""
    real, empty = tmp_path / "real", tmp_path / "empty"
    write_dataset(real, CLASSES, per_class=3)
    (real / "dogs").mkdir(exist_ok=True)
    (real / "dogs" / "9.jpg").write_bytes(class_image(0))
    (real / ".ipynb_checkpoints").mkdir()
    (real / ".ipynb_checkpoints" / "cat.1-checkpoint.jpg").write_bytes(class_image(1))
    for path in real.rglob("*"):
        mirror = empty / path.relative_to(real)
        if path.is_dir():
            mirror.mkdir(parents=True, exist_ok=True)
        else:
            mirror.parent.mkdir(parents=True, exist_ok=True)
            mirror.write_bytes(b"")
    names = {
        p.relative_to(empty).as_posix(): label
        for p, label in scan(empty, CLASSES, decode=False).items
    }
    decoded = {p.relative_to(real).as_posix(): label for p, label in scan(real, CLASSES).items}
    assert set(names) - set(decoded) == {"dog.corrupt.jpg"}
    assert {k: v for k, v in names.items() if k in decoded} == decoded
    assert decoded["dogs/9.jpg"] == 0


def test_too_few_usable_images_per_class_says_how_many_are_needed(tmp_path: Path) -> None:
    (tmp_path / "dog.1.jpg").write_bytes(class_image(0))
    (tmp_path / "dog.2.jpg").write_bytes(class_image(0))
    (tmp_path / "cat.1.jpg").write_bytes(class_image(1))
    good = class_image(1)
    (tmp_path / "cat.2.jpg").write_bytes(good[: len(good) // 3])
    assert scan(tmp_path, CLASSES, decode=False).shortfall(CLASSES) is None
    shortfall = scan(tmp_path, CLASSES).shortfall(CLASSES)
    assert shortfall is not None
    assert "needs at least 2 usable images of every class" in shortfall
    assert "found 1 cat" in shortfall


def test_images_over_the_pixel_limit_are_not_decoded(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "dog-cat"))
    try:
        from samples import png_bomb  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
        sys.modules.pop("samples", None)
    bomb = tmp_path / "dog.bomb.png"
    bomb.write_bytes(png_bomb(9000, 9000))  # 81 MP: under Pillow's own limits, over ours
    assert MAX_PIXELS < 9000 * 9000
    assert not is_readable_image(bomb)
